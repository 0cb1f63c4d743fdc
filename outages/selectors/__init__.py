"""Reads of the outages app, one module per concern. Each returns rows with relations loaded.

- ``outages``: outages, planned outages and their notices, per-district counts (re-exported
  here: ``from outages import selectors``).
- ``intake``: trouble reports and an outage's public progress.
- ``agent``: the hotline agent's page (caller search, customer context, the script).
"""

from outages.selectors.outages import (
    outage_counts_by_district,
    outage_for_service_point,
    outage_get,
    outage_get_detail,
    outage_list,
    outage_list_active,
    planned_outage_ids_due_to_end,
    planned_outage_ids_due_to_start,
    planned_outage_notices,
    planned_outages_for_service_point,
)

__all__ = [
    "outage_counts_by_district",
    "outage_for_service_point",
    "outage_get",
    "outage_get_detail",
    "outage_list",
    "outage_list_active",
    "planned_outage_ids_due_to_end",
    "planned_outage_ids_due_to_start",
    "planned_outage_notices",
    "planned_outages_for_service_point",
]
