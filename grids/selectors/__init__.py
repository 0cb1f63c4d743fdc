"""Reads of the grids app. Submodules own one concern each; import from here."""

from .topology import (
    device_downstream_device_ids,
    device_downstream_service_points,
    device_downstream_transformers,
    device_upstream_path,
    service_point_upstream_path,
)

__all__ = [
    "device_downstream_device_ids",
    "device_downstream_service_points",
    "device_downstream_transformers",
    "device_upstream_path",
    "service_point_upstream_path",
]
