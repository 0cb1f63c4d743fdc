"""The map area: small, valid, covering every point."""

import gzip
import json
import random

import pytest
from shapely.geometry import Point, shape

from outages.publicmap.geometry import area_bytes, outage_area


def _covers(area, points):
    geom = shape(area)
    assert geom.is_valid
    return all(geom.covers(Point(round(lng, 5), round(lat, 5))) for lat, lng in points)


@pytest.mark.parametrize("n", [1, 2, 3, 40, 2000, 10000])
def test_area_covers_the_points_and_stays_small(n):
    rng = random.Random(n)
    points = [(22.54 + rng.gauss(0, 0.01), 114.05 + rng.gauss(0, 0.01)) for _ in range(n)]
    area = outage_area(points)
    assert area["type"] in ("Polygon", "MultiPolygon")
    assert _covers(area, points)
    assert area_bytes(area) < 1200
    # coordinates are rounded to 5 decimals
    ring = area["coordinates"][0] if area["type"] == "Polygon" else area["coordinates"][0][0]
    assert all(round(c, 5) == c for xy in ring for c in xy)


def test_a_street_gives_a_thin_area_not_a_big_hull():
    # Houses on both sides of an L-shaped street: the concave outline stays near it
    rng = random.Random(7)
    points = [(22.54 + i * 0.0002, 114.05 + rng.uniform(-1e-4, 1e-4)) for i in range(50)]
    points += [(22.54 + rng.uniform(-1e-4, 1e-4), 114.05 + i * 0.0002) for i in range(50)]
    area = shape(outage_area(points))
    triangle = 0.5 * 0.01 * 0.01
    assert area.area < triangle / 2
    assert _covers(outage_area(points), points)


def test_no_points_no_area():
    assert outage_area([]) is None


def test_a_thousand_outages_fit_well_under_a_megabyte_gzipped():
    rng = random.Random(1)
    areas = []
    for _ in range(1000):
        n = rng.choice([1, 3, 20, 80, 300, 2000])
        lat, lng = 22.5 + rng.random() * 0.2, 113.9 + rng.random() * 0.4
        spread = rng.choice([0.0005, 0.003, 0.01])
        areas.append(
            outage_area(
                [(lat + rng.gauss(0, spread), lng + rng.gauss(0, spread)) for _ in range(n)]
            )
        )
    body = json.dumps(areas, separators=(",", ":")).encode()
    assert len(gzip.compress(body)) < 300_000
