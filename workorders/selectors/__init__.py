"""Reads of the work-orders app, one module per concern; import from here.

- ``orders``: the console's list, one order, the detail, the header counts.
- ``dispatch``: crews and orders as ``workorders.dispatching`` sees them, refusals, the
  console's suggestions and crew board.
- ``crews``: the crews' app: a user's crew, its orders, the grab pool and its policies.
- ``sweepers``: the SLA marks due and the beat sweepers' queries.
- ``console``: the console feed's fingerprints (its ETag) and rows.
- ``history``: an order's equipment history for the crews' app.
"""

from .complaints import (
    complaint_breached_order_ids,
    complaint_report_ids_with_orders,
    complaint_sla_breach_counts,
    complaint_work_order_ids,
    complaint_work_order_trace_facts,
)
from .console import (
    CREW_COLUMNS,
    console_crew_rows,
    console_filter_options,
    console_outage_rows,
    crews_fingerprint,
    outages_fingerprint,
    work_orders_fingerprint,
)
from .crews import (
    PoolEntry,
    crew_for_user,
    crew_orders,
    crew_pool_stats,
    pool_entry_for_crew,
    pool_orders_for_crew,
    pool_policy_for,
)
from .dispatch import (
    Suggestion,
    crew_board,
    crew_states_for_dispatch,
    work_order_dispatch_request,
    work_order_dispatch_requests,
    work_order_on_duty_crews,
    work_order_refusals,
    work_order_suggestions,
)
from .orders import (
    LIST_RELATED,
    actor_label,
    decision_explain,
    reason_label,
    work_order_counts_by_status,
    work_order_get,
    work_order_get_detail,
    work_order_list,
)
from .sweepers import (
    sla_due_filter,
    work_order_ids_offer_expired,
    work_order_ids_pool_expired,
    work_order_ids_sla_due,
    work_order_ids_stuck,
    work_orders_waiting_count,
)

__all__ = [
    "actor_label",
    "complaint_work_order_ids",
    "complaint_work_order_trace_facts",
    "complaint_breached_order_ids",
    "complaint_sla_breach_counts",
    "complaint_report_ids_with_orders",
    "CREW_COLUMNS",
    "LIST_RELATED",
    "PoolEntry",
    "Suggestion",
    "console_crew_rows",
    "console_filter_options",
    "console_outage_rows",
    "crew_board",
    "crew_for_user",
    "crew_orders",
    "crew_pool_stats",
    "crew_states_for_dispatch",
    "crews_fingerprint",
    "decision_explain",
    "outages_fingerprint",
    "pool_entry_for_crew",
    "pool_orders_for_crew",
    "pool_policy_for",
    "reason_label",
    "sla_due_filter",
    "work_order_counts_by_status",
    "work_order_dispatch_request",
    "work_order_dispatch_requests",
    "work_order_on_duty_crews",
    "work_order_get",
    "work_order_get_detail",
    "work_order_ids_offer_expired",
    "work_order_ids_pool_expired",
    "work_order_ids_sla_due",
    "work_order_ids_stuck",
    "work_order_list",
    "work_order_refusals",
    "work_order_suggestions",
    "work_orders_fingerprint",
    "work_orders_waiting_count",
]
