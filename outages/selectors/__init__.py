"""Reads of the outages app, one module per concern. Each returns rows with relations loaded.

- ``outages``: outages, planned outages and their notices, per-district counts (re-exported
  here: ``from outages import selectors``).
- ``intake``: trouble reports and an outage's public progress.
- ``planning``: a planned outage's customers and notice rule before it is published.
- ``agent``: the hotline agent's page (caller search, customer context, the script).
- ``work_orders``, ``reliability``, ``complaints``: the reads those higher apps need.
- ``taxonomy``: the active outage causes and types.
"""

from outages.selectors.complaints import (
    complaint_interruption_features,
    complaint_outage_ids_for_service_point,
    complaint_outage_trace_facts,
    complaint_report_counts,
    complaint_report_facts,
    complaint_report_ids_for_service_point,
    complaint_sustained_interruptions_since,
)
from outages.selectors.outages import (
    outage_counts_by_district,
    outage_for_service_point,
    outage_get,
    outage_get_detail,
    outage_list,
    outage_list_active,
    outages_near_point,
    planned_outage_ids_due_to_end,
    planned_outage_ids_due_to_start,
    planned_outage_notices,
    planned_outages_for_service_point,
)
from outages.selectors.planning import devices_near, planned_outage_preview
from outages.selectors.reliability import (
    interruption_histories,
    interruption_service_point_ids_with_at_least,
    interruptions_for_reliability,
    outage_for_reliability_preview,
    outage_reliability_attributes,
    outage_service_point_ids,
)
from outages.selectors.work_orders import (
    outage_customers_centre,
    outage_first_report_at,
    outage_type_default_priority,
)

__all__ = [
    "devices_near",
    "outage_customers_centre",
    "outage_first_report_at",
    "outage_type_default_priority",
    "interruption_histories",
    "interruptions_for_reliability",
    "interruption_service_point_ids_with_at_least",
    "outage_service_point_ids",
    "outage_for_reliability_preview",
    "outage_reliability_attributes",
    "complaint_outage_ids_for_service_point",
    "complaint_report_ids_for_service_point",
    "complaint_outage_trace_facts",
    "complaint_interruption_features",
    "complaint_sustained_interruptions_since",
    "complaint_report_counts",
    "complaint_report_facts",
    "outage_counts_by_district",
    "outage_for_service_point",
    "outage_get",
    "outage_get_detail",
    "outage_list",
    "outage_list_active",
    "outages_near_point",
    "planned_outage_ids_due_to_end",
    "planned_outage_ids_due_to_start",
    "planned_outage_notices",
    "planned_outage_preview",
    "planned_outages_for_service_point",
]
