"""The demo city's plan: its constants and the dataclasses every step fills in."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from grids.geodata import DistrictInfo, SubDistrictInfo

SEED = 20260501
CHUNK = 10_000

URBAN, RURAL, REMOTE = "urban", "rural", "remote"
# The hilly east and north-west: villages and long drives. 南澳 is the far end of the peninsula.
RURAL_SUB_DISTRICTS = frozenset(
    {"马峦街道", "碧岭街道", "石井街道", "玉塘街道", "新湖街道", "葵涌街道", "大鹏街道"}
)
REMOTE_SUB_DISTRICTS = frozenset({"南澳街道"})
# A small sub-district served by its neighbour's station (73 grids for 74 sub-districts).
MERGED_SUB_DISTRICTS = frozenset({"华强北街道"})


@dataclass
class SubPlan:
    """A sub-district: its centre and cell, and the streets its addresses use."""

    info: SubDistrictInfo
    district: DistrictInfo
    lng: float
    lat: float
    cell: BaseGeometry
    grid_code: str
    area_class: str
    roads: list[str]
    estates: list[str]
    weight: float
    # Where its customers are placed (``geometry.customer_area``), computed when first needed.
    customer_area: BaseGeometry | None = None

    @property
    def short(self) -> str:
        return self.info.name.removesuffix("街道")


@dataclass
class GridPlan:
    """A grid (repair zone) with its station, crews and feeders."""

    code: str
    name: str
    district_code: str
    sub_code: str
    area_class: str
    lng: float
    lat: float
    cell: BaseGeometry
    station: dict[str, object]
    feeder_codes: list[str] = field(default_factory=list)
    # Distribution transformers of the grid's feeders: codes and (lng, lat) rows.
    transformer_codes: list[str] = field(default_factory=list)
    transformer_xy: np.ndarray | None = None


@dataclass
class CityPlan:
    """Every reference row of the demo city, keyed by natural keys (codes)."""

    districts: list[dict[str, object]]
    subs: list[SubPlan]
    grids: list[GridPlan]
    crews: list[dict[str, object]]
    members: list[dict[str, object]]
    substations: list[dict[str, object]]
    feeders: list[dict[str, object]]
    nodes: list[dict[str, object]]
    devices: list[dict[str, object]]
    # Feeder codes per network component (feeders joined by ties).
    components: list[list[str]]
    seed: int = SEED
    _sub_cum_weights: np.ndarray | None = None
    _trees: dict[str, cKDTree] = field(default_factory=dict)
