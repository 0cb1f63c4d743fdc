"""Writes of the grids app. Submodules own one concern each; import from here."""

from .crews import crew_on_duty_set, crew_position_update, crew_qs_for_update, crew_status_set
from .importers import NetworkImportResult, district_ensure, network_import
from .network import device_qs_for_update, device_set_open, topology_rebuild

__all__ = [
    "crew_on_duty_set",
    "crew_position_update",
    "crew_qs_for_update",
    "crew_status_set",
    "NetworkImportResult",
    "device_qs_for_update",
    "device_set_open",
    "district_ensure",
    "network_import",
    "topology_rebuild",
]
