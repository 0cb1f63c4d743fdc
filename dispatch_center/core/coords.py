"""WGS-84 ↔ GCJ-02 coordinate conversion. Pure, no ORM.

The database and every API hold WGS-84 (what GPS and the browsers' Geolocation API give).
Chinese map tile providers (Amap, Tencent) draw their tiles in GCJ-02, the obfuscated datum
that mainland maps are required to use, so a WGS-84 point drawn on their tiles lands
300–600 m off in Shenzhen. We convert at the edge, for display only: the map's JavaScript
(``static/outages/js/coords.js``) does the same arithmetic; this module mirrors it for
server-side use (exports, tests) and is the reference both are tested against.

The forward transform is the widely published formula (Krasovsky ellipsoid constants). It
has no closed-form inverse; ``gcj02_to_wgs84`` inverts it by fixed-point iteration, which
converges to well under a millimetre in a few steps because the offset changes slowly.
Outside mainland China's bounding box the datums coincide and points pass through unchanged.
"""

from __future__ import annotations

import math

# Krasovsky 1940 semi-major axis and first eccentricity squared, as in the published formula.
_A = 6378245.0
_EE = 0.00669342162296594323

# Rough bounding box of mainland China used by the published formula (lng, lat).
_CHINA_MIN_LNG, _CHINA_MAX_LNG = 72.004, 137.8347
_CHINA_MIN_LAT, _CHINA_MAX_LAT = 0.8293, 55.8271

# Inverse iteration: stop when the forward image is within ~1 µm of the target.
_INVERSE_TOLERANCE_DEG = 1e-11
_INVERSE_MAX_STEPS = 30


def out_of_china(lat: float, lng: float) -> bool:
    """True when the point lies outside the box where GCJ-02 differs from WGS-84."""
    return not (_CHINA_MIN_LNG <= lng <= _CHINA_MAX_LNG and _CHINA_MIN_LAT <= lat <= _CHINA_MAX_LAT)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 minus WGS-84 offset (degrees) at a WGS-84 point inside China."""
    d_lat = _transform_lat(lng - 105.0, lat - 35.0)
    d_lng = _transform_lng(lng - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lat, d_lng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """Convert a WGS-84 ``(lat, lng)`` to GCJ-02 ``(lat, lng)``; unchanged outside China."""
    if out_of_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _offset(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Convert a GCJ-02 ``(lat, lng)`` back to WGS-84 (iterative; error far below 1 mm)."""
    if out_of_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _step in range(_INVERSE_MAX_STEPS):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        e_lat, e_lng = g_lat - lat, g_lng - lng
        if abs(e_lat) < _INVERSE_TOLERANCE_DEG and abs(e_lng) < _INVERSE_TOLERANCE_DEG:
            break
        w_lat, w_lng = w_lat - e_lat, w_lng - e_lng
    return w_lat, w_lng


def geojson_to_gcj02(geometry: dict) -> dict:
    """A copy of a GeoJSON geometry (``[lng, lat]`` positions) converted to GCJ-02.

    Handles Point, LineString, Polygon and their Multi- forms; GeometryCollection recursively.
    """
    kind = geometry["type"]
    if kind == "GeometryCollection":
        return {
            "type": kind,
            "geometries": [geojson_to_gcj02(g) for g in geometry["geometries"]],
        }
    return {"type": kind, "coordinates": _convert_positions(geometry["coordinates"])}


def _convert_positions(value: list) -> list:
    if value and isinstance(value[0], int | float):
        g_lat, g_lng = wgs84_to_gcj02(value[1], value[0])
        return [g_lng, g_lat, *value[2:]]
    return [_convert_positions(item) for item in value]
