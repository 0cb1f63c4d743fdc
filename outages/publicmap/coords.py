"""WGS-84 ↔ GCJ-02 conversion, kept importable here; it lives in ``dispatch_center.core.coords``
since the place gazetteer (grids) converts imported GCJ-02 coordinates too."""

from dispatch_center.core.coords import (
    gcj02_to_wgs84,
    geojson_to_gcj02,
    out_of_china,
    wgs84_to_gcj02,
)

__all__ = ["gcj02_to_wgs84", "geojson_to_gcj02", "out_of_china", "wgs84_to_gcj02"]
