"""The demo city's customers, generated in fixed-size chunks each from its own seed. No ORM."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from grids.address import normalize_address
from grids.demo_city.accounts import account_number
from grids.demo_city.geometry import customer_area, district_outline, sample_in
from grids.demo_city.plan import CHUNK, URBAN, CityPlan, SubPlan
from grids.demo_city.vocabulary import (
    IMPORTANT_KINDS,
    TOWER_TAILS,
    VILLAGES,
    mobile_number,
    person_name,
)


@dataclass(frozen=True, slots=True)
class ServicePointRow:
    """One generated customer; references are codes, resolved to keys by the writer."""

    index: int
    account_no: str
    customer_name: str
    phone: str
    address: str
    address_norm: str
    lat: float
    lng: float
    transformer: str
    grid: str
    district: str
    sub_district: str
    area_class: str
    is_important: bool


def service_point_rows(plan: CityPlan, start: int, stop: int) -> Iterator[list[ServicePointRow]]:
    """Customers number ``start`` to ``stop - 1``, one list per chunk they fall in.

    Chunk ``c`` holds customers ``c * CHUNK`` to ``(c + 1) * CHUNK - 1`` and is drawn from its
    own seed, so a customer does not depend on how many were asked for.
    """
    if plan._sub_cum_weights is None:
        w = np.array([s.weight for s in plan.subs])
        plan._sub_cum_weights = np.cumsum(w / w.sum())
    grids = {g.code: g for g in plan.grids}
    for chunk in range(start // CHUNK, (stop - 1) // CHUNK + 1 if stop > start else 0):
        lo, hi = max(start, chunk * CHUNK), min(stop, (chunk + 1) * CHUNK)
        rng = np.random.default_rng([plan.seed, 7, chunk])
        prng = random.Random(f"{plan.seed}:sp:{chunk}")
        which = np.searchsorted(plan._sub_cum_weights, rng.random(CHUNK), side="right")
        which = np.minimum(which, len(plan.subs) - 1)
        xy = np.empty((CHUNK, 2))
        tx_of = np.empty(CHUNK, dtype=np.int64)
        for si in np.unique(which):
            sel = np.nonzero(which == si)[0]
            sub = plan.subs[si]
            if sub.customer_area is None:
                sub.customer_area = customer_area(sub.cell, district_outline(sub.district))
            xy[sel] = sample_in(sub.customer_area, len(sel), rng)
            grid = grids[sub.grid_code]
            tree = plan._trees.get(grid.code)
            if tree is None:
                tree = plan._trees[grid.code] = cKDTree(grid.transformer_xy)
            tx_of[sel] = tree.query(xy[sel])[1]
        rows = []
        # Customer k's draws depend only on customers before it in the chunk, so every one up
        # to ``hi`` is drawn even when only the tail of the chunk is written.
        for k in range(hi - chunk * CHUNK):
            idx = chunk * CHUNK + k
            sub = plan.subs[int(which[k])]
            name = person_name(prng)
            phone = mobile_number(prng)
            important = prng.random() < 0.01
            addr_tail = _address_tail(prng, sub)
            if important:
                name = sub.short + prng.choice(IMPORTANT_KINDS)
            if idx < lo:
                continue
            grid = grids[sub.grid_code]
            address = f"深圳市{sub.district.name}{sub.info.name}{addr_tail}"
            rows.append(
                ServicePointRow(
                    index=idx,
                    account_no=account_number(idx),
                    customer_name=name,
                    phone=phone,
                    address=address,
                    address_norm=normalize_address(address),
                    lat=round(float(xy[k, 1]), 6),
                    lng=round(float(xy[k, 0]), 6),
                    transformer=grid.transformer_codes[int(tx_of[k])],
                    grid=grid.code,
                    district=sub.district.code,
                    sub_district=sub.info.code,
                    area_class=sub.area_class,
                    is_important=important,
                )
            )
        yield rows


def _address_tail(prng: random.Random, sub: SubPlan) -> str:
    """Road, number and premises: an estate flat, an office tower or a village house."""
    kind = prng.random()
    road = prng.choice(sub.roads)
    number = prng.randint(1, 2400)
    if sub.area_class != URBAN and kind < 0.4:
        village = prng.choice(VILLAGES)
        return f"{village}村{prng.randint(1, 12)}巷{prng.randint(1, 60)}号"
    estate = prng.choice(sub.estates)
    room = f"{prng.randint(1, 33)}{prng.randint(1, 8):02d}"
    if kind > 0.85:
        tower = estate[:2] + prng.choice(TOWER_TAILS)
        return f"{road}{number}号{tower}{prng.choice('ABCD')}座{room}"
    return f"{road}{number}号{estate}{prng.randint(1, 30)}栋{room}"
