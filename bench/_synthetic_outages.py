"""Synthetic active outages for the public-map benchmarks (no database needed).

Each outage is a ``outages.publicmap.publishing.PublicOutage`` row: a label point inside a random
Shenzhen district and a simplified area around it like the ones ``outages.publicmap.geometry``
builds for real outages: a star-shaped polygon of 20-40 vertices, 5-decimal coordinates, a radius
from 60 m (a few buildings on one transformer) to 1.5 km (a feeder), log-uniformly spread. Category,
type, cause and status mixes are those of a storm day (mostly faults).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grids.geodata import DISTRICTS  # noqa: E402

METRES_PER_DEGREE = 111_320.0
TYPES = {
    "fault": [
        ("fault_overhead_line", "架空线路故障", "Overhead line fault"),
        ("fault_cable", "电缆故障", "Cable fault"),
        ("fault_transformer", "配变故障", "Distribution transformer fault"),
        ("fault_low_voltage", "低压故障", "Low-voltage fault"),
    ],
    "planned": [("planned_maintenance", "计划检修", "Scheduled maintenance")],
    "temporary": [("temporary_repair", "临时检修", "Temporary repair")],
    "other": [("load_limiting", "有序用电", "Load limiting")],
}
CAUSES = [
    ("weather_wind", "大风", "High wind"),
    ("weather_lightning", "雷击", "Lightning"),
    ("tree_contact", "树障", "Tree contact"),
    ("external_damage", "外力破坏", "Third-party damage"),
    ("equipment_failure", "设备故障", "Equipment failure"),
    (None, None, None),
]
STATUSES = ["predicted", "confirmed", "crew_dispatched", "crew_on_site", "partially_restored"]
CREW = [None, "dispatched", "en_route", "on_site"]


def _inside(lng: float, lat: float, ring: list[list[float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _point_in_district(rng: random.Random) -> tuple[str, float, float]:
    district = rng.choice(DISTRICTS)
    min_lng, min_lat, max_lng, max_lat = district.bbox
    for _ in range(200):
        lng, lat = rng.uniform(min_lng, max_lng), rng.uniform(min_lat, max_lat)
        if any(_inside(lng, lat, ring) for ring in district.outline):
            return district.code, lat, lng
    return district.code, district.center_lat, district.center_lng


def _area(rng: random.Random, lat: float, lng: float) -> dict:
    radius_m = math.exp(rng.uniform(math.log(60), math.log(1500)))
    vertices = rng.randint(20, 40)
    m_per_deg_lng = METRES_PER_DEGREE * math.cos(math.radians(lat))
    ring = []
    for k in range(vertices):
        angle = 2 * math.pi * k / vertices + rng.uniform(-0.1, 0.1)
        r = radius_m * rng.uniform(0.55, 1.0)
        ring.append(
            [
                round(lng + r * math.cos(angle) / m_per_deg_lng, 5),
                round(lat + r * math.sin(angle) / METRES_PER_DEGREE, 5),
            ]
        )
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def synthetic_outages(
    count: int, *, seed: int = 2026, now: dt.datetime | None = None
) -> list[dict]:
    """``count`` public outage rows (see the module docstring), reproducible for a seed."""
    rng = random.Random(seed)
    now = now or dt.datetime.now(tz=dt.UTC)
    rows = []
    for i in range(count):
        category = rng.choices(["fault", "planned", "temporary", "other"], [80, 10, 7, 3])[0]
        type_code, type_name, type_name_en = rng.choice(TYPES[category])
        cause, cause_name, cause_name_en = rng.choice(CAUSES)
        district, lat, lng = _point_in_district(rng)
        started = now - dt.timedelta(minutes=rng.randint(2, 600))
        rows.append(
            {
                "id": 100_000 + i,
                "category": category,
                "type": type_code,
                "type_name": type_name,
                "type_name_en": type_name_en,
                "status": "in_progress" if category != "fault" else rng.choice(STATUSES),
                "cause": cause,
                "cause_name": cause_name,
                "cause_name_en": cause_name_en,
                "started_at": started.replace(microsecond=0),
                "etr": (now + dt.timedelta(minutes=rng.randint(20, 480))).replace(microsecond=0)
                if rng.random() < 0.75
                else None,
                "customers_affected": int(math.exp(rng.uniform(0, math.log(5000)))),
                "district": district,
                "crew_status": rng.choice(CREW),
                "lat": lat,
                "lng": lng,
                "geometry": _area(rng, lat, lng),
            }
        )
    return rows
