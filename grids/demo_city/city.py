"""Planning the demo city: sub-districts and their cells, grids and stations, crews, then the
network (``grids.demo_city.network``). Deterministic: everything derives from the seed.
"""

from __future__ import annotations

import random

import numpy as np

from grids.demo_city.geometry import district_cells, district_outline, geojson_of
from grids.demo_city.network import add_network
from grids.demo_city.plan import (
    MERGED_SUB_DISTRICTS,
    REMOTE,
    REMOTE_SUB_DISTRICTS,
    RURAL,
    RURAL_SUB_DISTRICTS,
    SEED,
    URBAN,
    CityPlan,
    GridPlan,
    SubPlan,
)
from grids.demo_city.vocabulary import (
    CREW_NUMERALS,
    ESTATE_HEADS,
    ESTATE_TAILS,
    ROADS,
    SKILLS,
    mobile_number,
    person_name,
)
from grids.geodata import DISTRICTS, SUB_DISTRICTS


def plan_city(
    *, seed: int = SEED, feeders_per_grid: int = 4, crews_per_station: int | None = None
) -> CityPlan:
    """The whole reference data of the demo city (everything but the service points)."""
    rng = np.random.default_rng(seed)
    districts = []
    subs: list[SubPlan] = []
    for d in DISTRICTS:
        outline = district_outline(d)
        districts.append(
            {
                "code": d.code,
                "name": d.name,
                "name_en": d.name_en,
                "center_lat": d.center_lat,
                "center_lng": d.center_lng,
                "boundary": geojson_of(outline),
            }
        )
        mine = [s for s in SUB_DISTRICTS if s.district_code == d.code]
        for info, (lng, lat, cell) in zip(mine, district_cells(d, mine, rng), strict=True):
            prng = random.Random(f"{seed}:{info.code}")
            area = (
                REMOTE
                if info.name in REMOTE_SUB_DISTRICTS
                else RURAL
                if info.name in RURAL_SUB_DISTRICTS
                else URBAN
            )
            roads = prng.sample(ROADS[d.name], k=min(8, len(ROADS[d.name])))
            estates = [prng.choice(ESTATE_HEADS) + prng.choice(ESTATE_TAILS) for _ in range(16)]
            weight = {URBAN: 1.0, RURAL: 0.35, REMOTE: 0.15}[area]
            subs.append(
                SubPlan(
                    info, d, lng, lat, cell, "", area, roads, list(dict.fromkeys(estates)), weight
                )  # fmt: skip
            )
    grids = _plan_grids(subs)
    plan = CityPlan(
        districts=districts,
        subs=subs,
        grids=grids,
        crews=[],
        members=[],
        substations=[],
        feeders=[],
        nodes=[],
        devices=[],
        components=[],
        seed=seed,
    )
    _plan_crews(plan, seed, crews_per_station)
    add_network(plan, seed, feeders_per_grid)
    return plan


def _plan_grids(subs: list[SubPlan]) -> list[GridPlan]:
    by_code = {s.info.code: s for s in subs}
    host: dict[str, str] = {}
    for s in subs:
        if s.info.name in MERGED_SUB_DISTRICTS:
            others = [o for o in subs if o.district is s.district and o is not s]
            near = min(others, key=lambda o: (o.lng - s.lng) ** 2 + (o.lat - s.lat) ** 2)
            host[s.info.code] = near.info.code
    grids = []
    for s in subs:
        if s.info.code in host:
            continue
        cell = s.cell
        for guest, h in host.items():
            if h == s.info.code:
                cell = cell.union(by_code[guest].cell)
        code = f"G{s.info.code}"
        road = s.roads[0]
        grids.append(
            GridPlan(
                code=code,
                name=f"{s.short}供电网格",
                district_code=s.district.code,
                sub_code=s.info.code,
                area_class=s.area_class,
                lng=s.lng,
                lat=s.lat,
                cell=cell,
                station={
                    "code": f"ST{s.info.code}",
                    "name": f"{s.short}供电服务站",
                    "address": f"深圳市{s.district.name}{s.info.name}{road}"
                    f"{int(s.info.code[-3:]) * 7 + 1}号",
                    "phone": f"0755-8{int(s.info.code) % 9_000_000 + 1_000_000:07d}",
                    "lat": round(s.lat, 6),
                    "lng": round(s.lng, 6),
                },
            )
        )
    for s in subs:
        s.grid_code = f"G{host.get(s.info.code, s.info.code)}"
    return grids


def _plan_crews(plan: CityPlan, seed: int, crews_per_station: int | None) -> None:
    skill_codes = [code for code, _ in SKILLS]
    for g in plan.grids:
        prng = random.Random(f"{seed}:crews:{g.code}")
        n = crews_per_station if crews_per_station is not None else prng.randint(8, 11)
        short = g.name.removesuffix("供电网格")
        for i in range(1, n + 1):
            code = f"CR{g.sub_code}-{i:02d}"
            # Every station has every skill somewhere: crew i always has skill i mod 5.
            skills = {skill_codes[(i - 1) % len(skill_codes)], "lv"}
            skills.update(prng.sample(skill_codes, k=prng.randint(0, 2)))
            num = CREW_NUMERALS[i - 1] if i <= 10 else str(i)
            plan.crews.append(
                {
                    "code": code,
                    "name": f"{short}抢修{num}班",
                    "station": g.station["code"],
                    "capacity": prng.randint(2, 4),
                    "vehicle_plate": "粤B" + prng.choice("DF") + f"{prng.randint(0, 99999):05d}",
                    "last_lat": round(g.lat + prng.gauss(0, 0.004), 6),
                    "last_lng": round(g.lng + prng.gauss(0, 0.004), 6),
                    "skills": sorted(skills),
                }
            )
            for m in range(prng.randint(2, 4)):
                plan.members.append(
                    {
                        "crew": code,
                        "name": person_name(prng),
                        "phone": mobile_number(prng),
                        "is_leader": m == 0,
                    }
                )
