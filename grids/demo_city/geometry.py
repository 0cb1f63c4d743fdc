"""Geometry of the demo city: district outlines, uniform samples, sub-district cells. No ORM."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.cluster.vq import kmeans2
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from grids.geodata import DistrictInfo, SubDistrictInfo


def district_outline(d: DistrictInfo) -> BaseGeometry:
    polys = [Polygon(ring) for ring in d.outline]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def mainland(geom: BaseGeometry, *, share: float = 0.1) -> BaseGeometry:
    """``geom`` without its islands: the parts smaller than ``share`` of the largest.

    南山区's outline includes 内伶仃岛, 30 km out in the estuary; a sub-district cell that
    reached it put customers of 南头街道 on the island.
    """
    parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon)]
    if len(parts) <= 1:
        return geom
    biggest = max(p.area for p in parts)
    kept = [p for p in parts if p.area >= share * biggest]
    return kept[0] if len(kept) == 1 else MultiPolygon(kept)


# How far inside its district's outline a customer is placed, in degrees (~600 m): the
# outlines are simplified with about that tolerance, so a point this far in lies inside the
# real boundary and on land, not in the bay the simplified coast cuts across.
INSET_DEG = 0.006


def customer_area(cell: BaseGeometry, outline: BaseGeometry) -> BaseGeometry:
    """Where a sub-district's customers go: its cell, kept ``INSET_DEG`` inside the district's
    mainland (the whole cell when the inset would leave nothing)."""
    inner = cell.intersection(mainland(outline).buffer(-INSET_DEG))
    return inner if inner.area > 0.05 * cell.area else cell


def sample_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random (lng, lat) points inside ``geom`` (rejection sampling, vectorised)."""
    if n <= 0:
        return np.empty((0, 2))
    min_x, min_y, max_x, max_y = geom.bounds
    fill = max(geom.area / ((max_x - min_x) * (max_y - min_y)), 0.05)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) / fill * 1.3) + 16
        xs = rng.uniform(min_x, max_x, m)
        ys = rng.uniform(min_y, max_y, m)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def geojson_of(geom: BaseGeometry) -> dict[str, object]:
    """GeoJSON of a polygon or multipolygon, coordinates rounded to about a metre."""

    def ring(coords: object) -> list[list[float]]:
        return [[round(x, 5), round(y, 5)] for x, y in coords]  # type: ignore[attr-defined]

    def poly(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior.coords)] + [ring(r.coords) for r in p.interiors]

    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": poly(geom)}
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in parts]}


def district_cells(
    d: DistrictInfo, subs: list[SubDistrictInfo], rng: np.random.Generator
) -> list[tuple[float, float, BaseGeometry]]:
    """Centre and Voronoi cell of each sub-district of ``d``, in the order of ``subs``; cells
    cover the district's mainland only, so no customer is placed on an island."""
    outline = mainland(district_outline(d))
    samples = sample_in(outline, 3000, rng)
    k = len(subs)
    centroids, labels = kmeans2(samples, k, minit="++", rng=rng)
    seeds = []
    for c in range(k):
        members = samples[labels == c]
        if len(members) == 0:
            members = samples
        # The cluster member nearest the centroid: inside the outline even for concave shapes.
        seeds.append(members[np.argmin(((members - centroids[c]) ** 2).sum(axis=1))])
    # West to east, so the sub-district codes run across the district the same way each time.
    seeds.sort(key=lambda p: (round(float(p[0]), 6), round(float(p[1]), 6)))
    pts = shapely.MultiPoint([tuple(p) for p in seeds])
    regions = shapely.voronoi_polygons(pts, extend_to=outline.envelope.buffer(0.2))
    out = []
    for p in seeds:
        point = Point(float(p[0]), float(p[1]))
        region = next(g for g in regions.geoms if g.contains(point))
        cell = region.intersection(outline)
        out.append((float(p[0]), float(p[1]), cell))
    return out
