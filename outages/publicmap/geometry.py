"""The map area of an outage: a small polygon around its affected service points. Pure, no ORM.

The public map shows every active outage at once, so each area must be tiny: a concave hull of
the points (so a feeder winding along a road does not become a huge triangle), buffered by a few
tens of metres so that a single house or a straight street still has an area, simplified to a
handful of vertices and rounded to 5 decimals (about 1 m). The result always covers every
input point. Work happens in a local metric plane (equirectangular around the points' mean
latitude): at Shenzhen's latitude a degree of longitude is ~8% shorter than one of latitude.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

METRES_PER_DEGREE = 111_320.0
PRECISION = 5


def outage_area(
    points: Iterable[tuple[float, float]],
    *,
    min_buffer_m: float = 30.0,
    max_buffer_m: float = 250.0,
    max_vertices: int = 40,
    concavity: float = 0.3,
) -> dict[str, Any] | None:
    """A GeoJSON ``Polygon`` / ``MultiPolygon`` covering ``points`` (``(lat, lng)`` pairs).

    ``None`` when there are no points. The buffer grows with the extent of the points (2% of
    the diagonal, between ``min_buffer_m`` and ``max_buffer_m``); simplification never moves
    the outline by more than the buffer, so the points stay inside. At most about
    ``max_vertices`` vertices per polygon.
    """
    coords = np.round(np.asarray(list(points), dtype=float).reshape(-1, 2), PRECISION)
    if not len(coords):
        return None  # columns of coords: lat, lng
    lat0 = float(coords[:, 0].mean())
    scale = np.array([METRES_PER_DEGREE * math.cos(math.radians(lat0)), METRES_PER_DEGREE])
    xy = coords[:, ::-1] * scale  # columns: x (east), y (north), metres
    extent = float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0))))
    buffer_m = min(max(extent * 0.02, min_buffer_m), max_buffer_m)

    # One point per cell of a third of the buffer: the hull of 10,000 customers costs ~20x
    # more than that of their few hundred cells, and the buffer still covers every original
    # point (a point moves at most 0.24 buffer). Cells are keyed by one int64 (fast unique).
    cells = np.round(xy / (buffer_m / 3)).astype(np.int64)
    keys = np.unique((cells[:, 0] << 32) + (cells[:, 1] & 0xFFFFFFFF))
    thinned = np.column_stack([keys >> 32, (keys & 0xFFFFFFFF).astype(np.int32)]) * (buffer_m / 3)
    cloud = shapely.multipoints(thinned)
    hull = shapely.concave_hull(cloud, ratio=concavity) if len(thinned) >= 3 else cloud.convex_hull
    lnglat_points = shapely.points(coords[:, ::-1])
    for _attempt in range(4):
        shape = _simplified(hull.buffer(buffer_m, quad_segs=2), buffer_m, max_vertices)
        geom = shapely.set_precision(shapely.transform(shape, lambda a: a / scale), 10**-PRECISION)
        shapely.prepare(geom)
        if not geom.is_empty and bool(np.all(shapely.covers(geom, lnglat_points))):
            return _to_geojson(geom)
        # Rounding or simplification cut a point off (tiny or very thin shapes): widen.
        buffer_m *= 1.5
    return _to_geojson(geom)  # pragma: no cover - the widened buffer always covers


def area_bytes(area: dict[str, Any] | None) -> int:
    """Size of ``area`` as compact JSON, for budgets (the map ships thousands of them)."""
    import json

    return len(json.dumps(area, separators=(",", ":")).encode())


def _simplified(poly: BaseGeometry, buffer_m: float, max_vertices: int) -> BaseGeometry:
    tolerance = buffer_m * 0.3
    shape = poly.simplify(tolerance, preserve_topology=True)
    # Douglas-Peucker keeps the outline within ``tolerance`` of the buffered one, and the
    # points are ``buffer_m`` inside it: stay below the buffer to keep them covered.
    while _vertex_count(shape) > max_vertices and tolerance < buffer_m * 0.6:
        tolerance *= 1.4
        shape = poly.simplify(tolerance, preserve_topology=True)
    if _vertex_count(shape) > max_vertices:
        # A ragged concave outline: its buffered convex hull is always compact.
        shape = poly.convex_hull.simplify(buffer_m * 0.6, preserve_topology=True)
    return shape


def _vertex_count(geom: BaseGeometry) -> int:
    return int(shapely.get_num_coordinates(geom))


def _ring(polygon: Polygon) -> list[list[list[float]]]:
    exterior = orient(Polygon(polygon.exterior), sign=1.0).exterior
    return [[[round(x, PRECISION), round(y, PRECISION)] for x, y in exterior.coords]]


def _to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON without holes (they add bytes and no meaning at map scale)."""
    polygons = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and g.area]
    if isinstance(geom, MultiPolygon | Polygon) and len(polygons) == 1:
        return {"type": "Polygon", "coordinates": _ring(polygons[0])}
    if not polygons:
        # Degenerate after rounding: a tiny square around the centroid.
        c = geom.centroid
        d = 10**-PRECISION * 30
        square = Polygon(
            [(c.x - d, c.y - d), (c.x + d, c.y - d), (c.x + d, c.y + d), (c.x - d, c.y + d)]
        )
        return {"type": "Polygon", "coordinates": _ring(square)}
    return {"type": "MultiPolygon", "coordinates": [_ring(p) for p in polygons]}
