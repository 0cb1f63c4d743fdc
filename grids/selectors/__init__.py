"""Reads of the grids app. Submodules own one concern each; import from here (``reference``:
the reference reads other apps make, imported as a module)."""

from .crews import crew_on_duty_by_id, skill_get_by_code
from .places import place_named, place_search
from .search import SearchHit, service_point_search
from .service_points import (
    PremiseQuery,
    service_point_by_id_query,
    service_point_for_account,
    service_point_for_account_query,
    service_point_nearest,
    service_point_nearest_query,
    service_points_by_customer_name,
    service_points_with_address,
    service_points_with_address_query,
)
from .topology import (
    device_downstream_device_ids,
    device_downstream_service_points,
    device_downstream_transformers,
    device_upstream_path,
    service_point_upstream_path,
)

__all__ = [
    "PremiseQuery",
    "SearchHit",
    "crew_on_duty_by_id",
    "device_downstream_device_ids",
    "device_downstream_service_points",
    "device_downstream_transformers",
    "device_upstream_path",
    "place_named",
    "place_search",
    "service_point_by_id_query",
    "service_point_for_account",
    "service_point_for_account_query",
    "service_point_nearest",
    "service_point_nearest_query",
    "service_point_search",
    "service_point_upstream_path",
    "service_points_by_customer_name",
    "service_points_with_address",
    "service_points_with_address_query",
    "skill_get_by_code",
]
