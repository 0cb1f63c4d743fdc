"""The demo city's network: a substation per grid, radial feeders, ties between them. No ORM."""

from __future__ import annotations

import math
import random

import numpy as np

from grids.demo_city.geometry import sample_in
from grids.demo_city.plan import CityPlan


def add_network(plan: CityPlan, seed: int, feeders_per_grid: int) -> None:
    """Substations, feeders, nodes and devices; ties inside grids and between neighbours."""
    rng = np.random.default_rng(seed + 1)
    last_main: dict[str, str] = {}  # feeder code -> its last main-line node
    feeder_grid: dict[str, str] = {}
    ties: list[tuple[str, str]] = []
    for g in plan.grids:
        prng = random.Random(f"{seed}:net:{g.code}")
        short = g.name.removesuffix("供电网格")
        ss_code = f"SS{g.sub_code}"
        ss_xy = sample_in(g.cell, 1, rng)[0]
        plan.substations.append(
            {
                "code": ss_code,
                "name": f"110kV{short}站",
                "district": g.district_code,
                "lat": round(float(ss_xy[1]), 6),
                "lng": round(float(ss_xy[0]), 6),
            }
        )
        bus = f"{ss_code}-BUS"
        plan.nodes.append(
            {"code": bus, "is_source": True, "lat": float(ss_xy[1]), "lng": float(ss_xy[0])}
        )
        sizes = [prng.randint(10, 24) for _ in range(feeders_per_grid)]
        pts = sample_in(g.cell, sum(sizes), rng)
        # Each feeder takes one angular sector around the substation, as real feeders fan out.
        angles = np.arctan2(pts[:, 1] - ss_xy[1], pts[:, 0] - ss_xy[0])
        pts = pts[np.argsort(angles, kind="stable")]
        tx_codes: list[str] = []
        tx_xy: list[np.ndarray] = []
        start = 0
        for f_idx, size in enumerate(sizes, start=1):
            f_pts = pts[start : start + size]
            start += size
            dist = ((f_pts - ss_xy) ** 2).sum(axis=1)
            f_pts = f_pts[np.argsort(dist, kind="stable")]
            code = f"{g.sub_code}-F{f_idx}"
            fname = f"10kV{short}{f_idx:02d}线"
            plan.feeders.append({"code": code, "name": fname, "substation": ss_code})
            plan.components.append([code])
            feeder_grid[code] = g.code
            mains = _plan_feeder(plan, prng, code, fname, bus, f_pts, tx_codes, tx_xy)
            last_main[code] = mains[-1]
        g.feeder_codes = [f"{g.sub_code}-F{i}" for i in range(1, feeders_per_grid + 1)]
        g.transformer_codes = tx_codes
        g.transformer_xy = np.array(tx_xy)
        ties += list(zip(g.feeder_codes, g.feeder_codes[1:], strict=False))
    # Neighbouring grids of one district: tie the last feeder of one to the first of the next.
    for i, a in enumerate(plan.grids):
        for b in plan.grids[i + 1 :]:
            if a.district_code == b.district_code and a.cell.distance(b.cell) < 1e-6:
                ties.append((a.feeder_codes[-1], b.feeder_codes[0]))
    for fa, fb in ties:
        plan.devices.append(
            {
                "code": f"{fa}-TIE-{fb}",
                "name": f"{fa}/{fb}联络开关",
                "kind": "load_break_switch",
                "feeder": fa,
                "node_a": last_main[fa],
                "node_b": last_main[fb],
                "normally_open": True,
                "is_open": True,
            }
        )
    plan.components = _components([str(f["code"]) for f in plan.feeders], ties)


def _plan_feeder(
    plan: CityPlan,
    prng: random.Random,
    code: str,
    fname: str,
    bus: str,
    pts: np.ndarray,
    tx_codes: list[str],
    tx_xy: list[np.ndarray],
) -> list[str]:
    """One radial feeder; returns its main-line node codes from the head outward."""
    n_sections = max(2, math.ceil(len(pts) / 7))
    bounds = np.linspace(0, len(pts), n_sections + 1).astype(int)
    mains: list[str] = []
    tx_no = 0
    for s in range(n_sections):
        sec = pts[bounds[s] : bounds[s + 1]]
        main = f"{code}-M{s}"
        x, y = (float(v) for v in sec[0])
        plan.nodes.append({"code": main, "is_source": False, "lat": y, "lng": x})
        upstream = bus if s == 0 else mains[-1]
        plan.devices.append(
            {
                "code": f"{code}-CB" if s == 0 else f"{code}-S{s}",
                "name": f"{fname}出线开关" if s == 0 else f"{fname}{s}号分段开关",
                "kind": "breaker" if s == 0 else "load_break_switch",
                "feeder": code,
                "node_a": upstream,
                "node_b": main,
                "lat": y,
                "lng": x,
            }
        )
        mains.append(main)
        j = 0
        i = 0
        while i < len(sec):
            take = prng.randint(2, 5)
            lateral = sec[i : i + take]
            i += take
            j += 1
            lat_node = f"{code}-L{s}-{j}"
            lx, ly = (float(v) for v in lateral[0])
            plan.nodes.append({"code": lat_node, "is_source": False, "lat": ly, "lng": lx})
            plan.devices.append(
                {
                    "code": f"{code}-FU{s}-{j}",
                    "name": f"{fname}{s}段{j}号支线熔断器",
                    "kind": "fuse",
                    "feeder": code,
                    "node_a": main,
                    "node_b": lat_node,
                    "lat": ly,
                    "lng": lx,
                }
            )
            for p in lateral:
                tx_no += 1
                tx_code = f"{code}-T{tx_no:02d}"
                px, py = float(p[0]), float(p[1])
                lv = f"{tx_code}-LV"
                plan.nodes.append({"code": lv, "is_source": False, "lat": py, "lng": px})
                plan.devices.append(
                    {
                        "code": tx_code,
                        "name": f"{fname}#{tx_no:02d}配变",
                        "kind": "transformer",
                        "feeder": code,
                        "node_a": lat_node,
                        "node_b": lv,
                        "rating_kva": float(prng.choice((315, 400, 500, 630, 800))),
                        "lat": py,
                        "lng": px,
                    }
                )
                tx_codes.append(tx_code)
                tx_xy.append(p)
    return mains


def _components(feeders: list[str], ties: list[tuple[str, str]]) -> list[list[str]]:
    parent = {f: f for f in feeders}

    def find(f: str) -> str:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for a, b in ties:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for f in feeders:
        groups.setdefault(find(f), []).append(f)
    return list(groups.values())
