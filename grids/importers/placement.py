"""Placing an imported network on the map of Shenzhen. Pure Python, no ORM.

Test feeders come with coordinates elsewhere: the IEEE feeders in feet on a local grid,
SimBench in WGS-84 in northern Germany. For a Shenzhen demo we move them by an affine map that
fits the network's bounding box into a district's bounding box
(``grids.geodata.DISTRICTS[i].bbox``). The scale is the same on both axes, measured in local
metres (a degree of longitude is shorter than a degree of latitude, and more so at 53° N than at
22° N), so the network keeps its shape; it is centred in the box with a small margin.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from grids.geodata import DISTRICTS, DistrictInfo

# (min_lng, min_lat, max_lng, max_lat)
BBox = tuple[float, float, float, float]


def city_bbox() -> BBox:
    """The bounding box of all of Shenzhen's districts."""
    return (
        min(d.bbox[0] for d in DISTRICTS),
        min(d.bbox[1] for d in DISTRICTS),
        max(d.bbox[2] for d in DISTRICTS),
        max(d.bbox[3] for d in DISTRICTS),
    )


def find_district(name: str) -> DistrictInfo | None:
    """The district called ``name``: Chinese (福田区 or 福田), English (Futian) or code."""
    wanted = name.strip()
    folded = wanted.casefold()
    for info in DISTRICTS:
        candidates = {info.code, info.name, info.name.removesuffix("区"), info.name_en.casefold()}
        if wanted in candidates or folded in candidates:
            return info
    return None


@dataclass(frozen=True, slots=True)
class Placement:
    """An affine map from source x/y to (lng, lat), the same scale on both axes."""

    src_cx: float
    src_cy: float
    src_x_factor: float  # cos(latitude) for geographic sources, else 1
    scale: float
    dst_cx: float  # degrees
    dst_cy: float
    dst_x_factor: float

    @classmethod
    def identity(cls) -> "Placement":
        return cls(0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0)

    def lng_lat(self, x: float, y: float) -> tuple[float, float]:
        px = (x * self.src_x_factor - self.src_cx) * self.scale
        py = (y - self.src_cy) * self.scale
        return (self.dst_cx + px / self.dst_x_factor, self.dst_cy + py)


def fit_to_bbox(
    points: Iterable[tuple[float, float]],
    bbox: BBox,
    *,
    geographic: bool,
    margin: float = 0.05,
) -> Placement:
    """The placement that fits ``points`` (source x/y) inside ``bbox``, centred, keeping shape.

    ``margin`` is the share of the box kept free on each side. With no points, or a single
    one, everything lands on the centre of the box.
    """
    pts = list(points)
    min_lng, min_lat, max_lng, max_lat = bbox
    dst_factor = math.cos(math.radians((min_lat + max_lat) / 2))
    dst_cx = (min_lng + max_lng) / 2
    dst_cy = (min_lat + max_lat) / 2
    if not pts:
        return Placement(0.0, 0.0, 1.0, 0.0, dst_cx, dst_cy, dst_factor)
    ys = [p[1] for p in pts]
    src_factor = math.cos(math.radians((min(ys) + max(ys)) / 2)) if geographic else 1.0
    xs = [p[0] * src_factor for p in pts]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    usable = 1 - 2 * margin
    scales = []
    if width > 0:
        scales.append((max_lng - min_lng) * dst_factor * usable / width)
    if height > 0:
        scales.append((max_lat - min_lat) * usable / height)
    scale = min(scales) if scales else 0.0
    return Placement(
        src_cx=(min(xs) + max(xs)) / 2,
        src_cy=(min(ys) + max(ys)) / 2,
        src_x_factor=src_factor,
        scale=scale,
        dst_cx=dst_cx,
        dst_cy=dst_cy,
        dst_x_factor=dst_factor,
    )
