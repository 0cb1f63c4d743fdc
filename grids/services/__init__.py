"""Writes of the grids app. Submodules own one concern each; import from here."""

from .network import device_qs_for_update, device_set_open, topology_rebuild

__all__ = ["device_qs_for_update", "device_set_open", "topology_rebuild"]
