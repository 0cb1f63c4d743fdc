"""The demo city's place gazetteer: its sub-districts, the roads and estates of its addresses.
No ORM; ``grids.services.demo`` writes the rows with ``grids.services.places.place_import``."""

from __future__ import annotations

import numpy as np

from grids.demo_city.geometry import customer_area, district_outline, sample_in
from grids.demo_city.plan import CityPlan
from grids.gazetteer import PlaceRow


def place_rows(plan: CityPlan) -> list[PlaceRow]:
    """One sub-district place at each centre, and each of its roads and estates at a point
    where its customers live (drawn from the seed, so the same plan gives the same places)."""
    rows: list[PlaceRow] = []
    for i, sub in enumerate(plan.subs):
        district = sub.district.name
        prefix = f"{district}{sub.info.name}"
        rows.append(
            PlaceRow(
                "sub_district",
                sub.info.name,
                prefix,
                round(sub.lat, 6),
                round(sub.lng, 6),
                district,
            )  # fmt: skip
        )
        if sub.customer_area is None:
            sub.customer_area = customer_area(sub.cell, district_outline(sub.district))
        names = [("road", r) for r in sub.roads] + [("place", e) for e in sub.estates]
        rng = np.random.default_rng([plan.seed, 11, i])
        points = sample_in(sub.customer_area, len(names), rng)
        for (kind, name), (lng, lat) in zip(names, points, strict=True):
            rows.append(
                PlaceRow(
                    kind,
                    name,
                    f"{prefix}{name}",
                    round(float(lat), 6),
                    round(float(lng), 6),
                    district,
                )  # fmt: skip
            )
    return rows
