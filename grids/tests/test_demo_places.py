"""The demo city's geography: customers inside their own district, on land; its gazetteer."""

import json
from collections import Counter

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape

from grids import demo_city
from grids.demo_city.geometry import mainland
from grids.geodata import DISTRICTS
from grids.models import Place
from grids.selectors import place_search


@pytest.fixture(scope="module")
def plan():
    return demo_city.plan_city(feeders_per_grid=2, crews_per_station=3)


@pytest.fixture(scope="module")
def rows(plan):
    return [r for chunk in demo_city.service_point_rows(plan, 0, 12_000) for r in chunk]


def test_islands_get_no_customers(plan, rows):
    # 南山区's outline has 内伶仃岛 (around 113.80 E, 22.41 N) as a separate part
    nanshan = next(d for d in DISTRICTS if d.name == "南山区")
    outline = demo_city.district_outline(nanshan)
    island = min(outline.geoms, key=lambda g: g.area)
    assert island.centroid.y < 22.45
    assert not any(island.buffer(0.01).contains(Point(r.lng, r.lat)) for r in rows)
    by_sub = Counter(r.sub_district for r in rows)
    assert all(by_sub[s.info.code] > 0 for s in plan.subs if s.area_class == "urban")
    for sub in plan.subs:
        assert mainland(demo_city.district_outline(sub.district)).contains(Point(sub.lng, sub.lat))


def test_customers_lie_inside_their_district_and_cell(plan, rows):
    outlines = {d.code: mainland(demo_city.district_outline(d)) for d in DISTRICTS}
    subs = {s.info.code: s for s in plan.subs}
    for r in rows:
        point = Point(r.lng, r.lat)
        # about 600 m inside the simplified outline, so inside the real boundary too
        assert outlines[r.district].buffer(-0.005).contains(point), r.address
        assert subs[r.sub_district].cell.contains(point), r.address
        assert f"{subs[r.sub_district].info.name}" in r.address


def test_customers_lie_inside_the_real_district_boundaries(rows, shared_data):
    geo = json.loads((shared_data / "geo" / "shenzhen_districts_wgs84.geojson").read_text())
    polygons = {f["properties"]["qh"]: shape(f["geometry"]) for f in geo["features"]}
    names = {d.code: d.name.removesuffix("新区").removesuffix("区") for d in DISTRICTS}
    outside = [
        r.address for r in rows if not polygons[names[r.district]].contains(Point(r.lng, r.lat))
    ]
    assert outside == []


def test_place_rows_cover_sub_districts_roads_and_estates(plan):
    places = demo_city.place_rows(plan)
    assert places == demo_city.place_rows(plan)
    kinds = Counter(p.kind for p in places)
    assert kinds["sub_district"] == 74
    assert kinds["road"] >= 74 * 4
    assert kinds["place"] >= 74 * 8
    assert len({(p.name, p.address) for p in places}) == len(places)
    subs = {s.info.name: s for s in plan.subs}
    for p in places:
        sub = subs[
            p.address.removeprefix(p.district)[: p.address.find("街道") + 2 - len(p.district)]
        ]
        assert sub.cell.buffer(1e-9).contains(Point(p.lng, p.lat)), p


@pytest.mark.django_db
def test_seed_writes_the_demo_gazetteer_once():
    args = {"service_points": 50, "feeders_per_grid": 1, "crews_per_station": 1}
    call_command("seed_demo", no_progress=True, verbosity=0, **args)
    count = Place.objects.count()
    assert count > 74 * 10
    call_command("seed_demo", no_progress=True, verbosity=0, **args)
    assert Place.objects.count() == count
    (yuanling,) = place_search(q="园岭街道", limit=1)
    assert yuanling.kind == "sub_district"
    assert yuanling.district is not None
    assert yuanling.district.name == "福田区"
