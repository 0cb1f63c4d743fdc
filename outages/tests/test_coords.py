"""WGS-84 ↔ GCJ-02 conversion against published reference points."""

import math

import pytest

from outages.publicmap import coords

# Reference vectors published with the eviltransform library's tests (wgs, gcj), used by many
# independent implementations; the Shenzhen one is in 南山区.
KNOWN_POINTS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    d_lat = (a[0] - b[0]) * 111_320
    d_lng = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(d_lat, d_lng)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_POINTS)
def test_wgs84_to_gcj02_matches_known_points(wgs, gcj):
    assert coords.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_POINTS)
def test_gcj02_to_wgs84_inverts_known_points(wgs, gcj):
    assert coords.gcj02_to_wgs84(*gcj) == pytest.approx(wgs, abs=1e-9)


def test_shenzhen_offset_is_hundreds_of_metres():
    # Why the conversion matters: drawn unconverted on Amap tiles, a Futian point is off by
    # roughly half a kilometre.
    wgs = (22.5431, 114.0579)
    offset = _metres(wgs, coords.wgs84_to_gcj02(*wgs))
    assert 300 < offset < 700


def test_round_trip_across_the_city_stays_below_a_millimetre():
    for i in range(40):
        for j in range(40):
            wgs = (22.40 + i * 0.012, 113.75 + j * 0.02)
            back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(*wgs))
            assert _metres(wgs, back) < 0.001


@pytest.mark.parametrize(
    "point",
    [(51.5074, -0.1278), (-33.8688, 151.2093), (60.0, 100.0), (22.3, 71.9), (0.5, 114.05)],
)
def test_points_outside_china_pass_through(point):
    # London, Sydney, north of the box, west of it, south of it
    assert coords.out_of_china(*point)
    assert coords.wgs84_to_gcj02(*point) == point
    assert coords.gcj02_to_wgs84(*point) == point


@pytest.mark.parametrize("point", [(22.3193, 113.0), (22.54, 114.05), (45.75, 126.65)])
def test_points_inside_china_move(point):
    # West of Shenzhen, Futian, Harbin
    assert not coords.out_of_china(*point)
    assert _metres(point, coords.wgs84_to_gcj02(*point)) > 100


def test_geojson_polygon_is_converted_vertex_by_vertex():
    # A triangle on the three reference points, closed
    ring = [[lng, lat] for (lat, lng), _gcj in KNOWN_POINTS]
    ring.append(list(ring[0]))
    expected = [[lng, lat] for _wgs, (lat, lng) in KNOWN_POINTS]
    expected.append(expected[0])
    converted = coords.geojson_to_gcj02({"type": "Polygon", "coordinates": [ring]})
    assert converted["type"] == "Polygon"
    assert len(converted["coordinates"]) == 1
    for vertex, want in zip(converted["coordinates"][0], expected, strict=True):
        assert vertex == pytest.approx(want, abs=1e-9)
    # The input is not modified.
    assert ring[0] == [121.5272106, 31.1774276]


def test_geojson_collection_and_point_with_altitude():
    (lat, lng), (g_lat, g_lng) = KNOWN_POINTS[1]  # Shenzhen
    geometry = {
        "type": "GeometryCollection",
        "geometries": [{"type": "Point", "coordinates": [lng, lat, 12.0]}],
    }
    point = coords.geojson_to_gcj02(geometry)["geometries"][0]
    assert point["coordinates"][2] == 12.0
    assert point["coordinates"][:2] == pytest.approx([g_lng, g_lat], abs=1e-9)
