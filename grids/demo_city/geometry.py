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
    """Centre and Voronoi cell of each sub-district of ``d``, in the order of ``subs``."""
    outline = district_outline(d)
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
