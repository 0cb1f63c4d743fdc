"""The place gazetteer: reading and importing files, search, the real Shenzhen lists."""

import csv
import json

import pytest
from django.core.management import CommandError, call_command
from shapely.geometry import Point, shape

from dispatch_center.core.coords import gcj02_to_wgs84, wgs84_to_gcj02
from grids.gazetteer import (
    GazetteerError,
    read_gcj02_pois,
    read_places,
    road_of,
    shenzhen_places,
    write_places,
)
from grids.geodata import DISTRICTS
from grids.models import Place
from grids.selectors import place_search
from grids.tests.factories import DistrictFactory

HEADER = ["name", "address", "lat", "lng", "district"]


def _csv(path, rows, header=HEADER):
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _import(path, crs):
    from io import StringIO

    out = StringIO()
    call_command("import_places", str(path), "--crs", crs, stdout=out)
    return out.getvalue()


# --- reading (pure) -----------------------------------------------------------------------


def test_kinds_are_inferred_from_names(tmp_path):
    path = _csv(
        tmp_path / "p.csv",
        [
            ["园岭街道", "福田区园岭街道", "22.55", "114.09", "福田区"],
            ["红岭社区", "", "22.55", "114.10", "罗湖区"],
            ["金稻田路", "", "22.58", "114.12", "罗湖区"],
            ["深圳北站", "龙华区民治街道", "22.61", "114.03", "龙华区"],
        ],
    )
    kinds = {r.name: r.kind for r in read_places(path, crs="wgs84")}
    assert kinds == {"园岭街道": "sub_district", "红岭社区": "community", "金稻田路": "road",
                     "深圳北站": "place"}  # fmt: skip


def test_malformed_file_names_file_line_and_problem(tmp_path):
    path = _csv(
        tmp_path / "bad.csv",
        [
            ["好地方", "", "22.5", "114.0", "福田区"],
            ["", "没有名字", "22.5", "114.0", "福田区"],
            ["北极", "", "95", "114.0", "福田区"],
            ["无经度", "", "22.5", "东经", "福田区"],
            ["怪类", "", "22.5", "114.0", "福田区", "planet"],
        ],
        header=[*HEADER, "kind"],
    )
    with pytest.raises(GazetteerError) as err:
        read_places(path, crs="wgs84")
    assert err.value.problems == [
        "bad.csv, line 3: name is empty",
        "bad.csv, line 4: lat 95.0 is outside -90..90",
        "bad.csv, line 5: lng '东经' is not a number",
        "bad.csv, line 6: kind 'planet' is not one of sub_district, community, road, place",
    ]


def test_missing_column_is_reported(tmp_path):
    path = _csv(tmp_path / "cols.csv", [["a", "b", "1"]], header=["name", "address", "lat"])
    with pytest.raises(
        GazetteerError, match=r"cols.csv, line 1: missing column\(s\) lng, district"
    ):
        read_places(path, crs="wgs84")


@pytest.mark.parametrize(
    ("address", "road"),
    [
        ("东晓街道金稻田路1185-24号绿景山庄裙楼0105", "金稻田路"),
        ("东门街道东门社区人民路二横街12号鸿基工艺城3楼01号", "人民路二横街"),
        ("广东省深圳市福田区福华路399号", "福华路"),
        ("深圳市南山区深南大道10000号", "深南大道"),
        ("广东省深圳市龙华区深圳地铁5号线深圳北站", None),
    ],
)
def test_road_of_an_address(address, road):
    assert road_of(address) == road


# --- importing (database) -------------------------------------------------------------------


@pytest.mark.django_db
def test_import_wgs84_and_gcj02(tmp_path):
    # Given one place in each datum, the GCJ-02 one given in its shifted coordinates
    DistrictFactory(code="440304", name="福田区", name_en="Futian")
    glat, glng = wgs84_to_gcj02(22.5431, 114.0579)
    _import(
        _csv(tmp_path / "w.csv", [["市民中心", "福田区福中三路", 22.5431, 114.0579, "福田区"]]),
        "wgs84",
    )
    _import(_csv(tmp_path / "g.csv", [["会展中心", "福田区福华三路", glat, glng, "福田"]]), "gcj02")
    # Then both are stored in WGS-84, at the same point, linked to the district
    w, g = Place.objects.get(name="市民中心"), Place.objects.get(name="会展中心")
    assert (w.lat, w.lng) == (22.5431, 114.0579)
    assert abs(g.lat - 22.5431) < 1e-6
    assert abs(g.lng - 114.0579) < 1e-6
    assert abs(glng - 114.0579) > 0.004  # the datums really differ here
    assert w.district is not None
    assert g.district == w.district
    assert w.search_norm == "市民中心 福中三路"


@pytest.mark.django_db
def test_reimport_changes_nothing_and_updates_moved_places(tmp_path):
    rows = [["园岭街道", "福田区园岭街道", "22.55", "114.09", "福田区"],
            ["红岭社区", "罗湖区红岭社区", "22.55", "114.10", "罗湖区"]]  # fmt: skip
    path = _csv(tmp_path / "p.csv", rows)
    assert "2 created, 0 updated, 0 unchanged" in _import(path, "wgs84")
    assert "0 created, 0 updated, 2 unchanged" in _import(path, "wgs84")
    rows[1][2] = "22.56"
    assert "0 created, 1 updated, 1 unchanged" in _import(_csv(path, rows), "wgs84")
    assert Place.objects.count() == 2
    assert Place.objects.get(name="红岭社区").lat == 22.56


@pytest.mark.django_db
def test_bad_file_imports_nothing(tmp_path):
    path = _csv(
        tmp_path / "bad.csv", [["好", "", "22.5", "114", "福田区"], ["坏", "", "x", "114", ""]]
    )
    with pytest.raises(CommandError, match="bad.csv, line 3: lat 'x' is not a number"):
        _import(path, "wgs84")
    with pytest.raises(CommandError, match="no such file"):
        _import(tmp_path / "missing.csv", "wgs84")
    assert not Place.objects.exists()


@pytest.mark.django_db
def test_search_ranks_exact_names_and_larger_units_first(tmp_path):
    _import(
        _csv(
            tmp_path / "p.csv",
            [
                ["园岭街道", "福田区园岭街道", "22.55", "114.09", "福田区"],
                ["园岭小学", "福田区园岭街道百花路", "22.55", "114.09", "福田区"],
                ["福华路", "福田区福华路", "22.53", "114.05", "福田区"],
                ["中海大厦", "福田区福华路399号", "22.53", "114.05", "福田区"],
            ],
        ),
        "wgs84",
    )
    assert [p.name for p in place_search(q="园岭")] == ["园岭街道", "园岭小学"]
    assert [p.name for p in place_search(q="园岭", limit=1)] == ["园岭街道"]
    # A house number the gazetteer lacks falls back to the road
    assert [p.name for p in place_search(q="福田区福华路88号")] == ["福华路", "中海大厦"]
    # A district prefix filters
    assert place_search(q="南山区福华路") == []
    assert place_search(q="火星基地") == []


# --- the real Shenzhen lists (../shared/data/geo) -------------------------------------------


def _real_gazetteer(geo, tmp_path):
    centres = {d.code: (d.name, d.center_lat, d.center_lng) for d in DISTRICTS}
    pois = read_gcj02_pois(geo / "shenzhen_pois_amap_gcj02.csv")
    pois += read_gcj02_pois(geo / "shenzhen_aed_pois_tencent_gcj02.csv")
    with (
        (geo / "shenzhen_streets_nbs2023.csv").open(encoding="utf-8") as s,
        (geo / "shenzhen_communities_nbs2023.csv").open(encoding="utf-8") as c,
    ):
        rows = shenzhen_places(
            streets=csv.DictReader(s), communities=csv.DictReader(c), pois=pois,
            district_centres=centres,
        )  # fmt: skip
    out = tmp_path / "shenzhen_places.csv"
    write_places(rows, out)
    return out, rows


@pytest.mark.django_db
def test_real_shenzhen_places_are_found(shared_data, tmp_path):
    path, rows = _real_gazetteer(shared_data / "geo", tmp_path)
    assert "0 updated" in _import(path, "wgs84")
    kinds = {k: sum(r.kind == k for r in rows) for k in ("sub_district", "community", "road")}
    assert kinds["sub_district"] >= 74
    assert kinds["community"] >= 780
    assert kinds["road"] > 50
    # The examples, each found as the place it names
    expect = {
        "金稻田路1185号": "金稻田路",
        "人民路二横街": "人民路二横街",
        "红岭社区": "红岭社区",
        "园岭街道": "园岭街道",
        "福田区福华路88号": "福华路",
    }
    for q, name in expect.items():
        assert place_search(q=q)[0].name == name, q
    assert "深圳北站" in place_search(q="深圳北站")[0].address
    assert len(place_search(q="AED", limit=20)) == 20


@pytest.mark.django_db
def test_real_poi_file_imported_as_gcj02_lands_in_its_district(shared_data, tmp_path):
    # Given the Amap POIs in the import format, their coordinates still in GCJ-02
    src = shared_data / "geo" / "shenzhen_pois_amap_gcj02.csv"
    with src.open(encoding="utf-8") as f:
        pois = list(csv.DictReader(f))
    path = _csv(
        tmp_path / "amap.csv",
        [[p["name"], p["address"], p["lat_gcj02"], p["lng_gcj02"], p["district"]] for p in pois],
    )
    _import(path, "gcj02")
    # Then each lies inside its district's WGS-84 polygon (the other datum is ~500 m off)
    geo = json.loads((shared_data / "geo" / "shenzhen_districts_wgs84.geojson").read_text())
    polygons = {f["properties"]["qh"]: shape(f["geometry"]) for f in geo["features"]}
    places = list(Place.objects.all())
    assert len(places) == len({(p["name"], p["address"]) for p in pois})
    inside = sum(polygons[p.district_name.removesuffix("区")].contains(Point(p.lng, p.lat))
                 for p in places)  # fmt: skip
    assert inside >= 0.97 * len(places)
    sample = places[0]
    assert gcj02_to_wgs84(*wgs84_to_gcj02(sample.lat, sample.lng))[0] == pytest.approx(sample.lat)
