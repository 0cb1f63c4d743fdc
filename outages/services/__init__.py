"""Writes of the outages app. Submodules own one concern each; import from here.

- ``lifecycle``: ``outage_create``, ``outage_transition`` (the only status change),
  ``outage_restore``, ``outage_set_etr``, ``outage_set_cause``, ``outage_set_description``.
- ``interruptions``: ``outage_restore_device`` (partial restoration), ``outage_widen``,
  ``outage_add_device``, ``outage_open_nested``.
- ``manual``: ``outage_declare_by_hand`` (a fault outage from a device or a set of calls).
- ``planned``: ``planned_outage_create`` (notice rules), ``planned_outage_publish_notice``,
  ``planned_outage_start``.
- ``common``: shared helpers, including the lock helper ``outage_qs_for_update``.
- ``intake``: ``report_submit``, ``report_process``, ``report_resolve`` (trouble reports).
- ``rollup_service``: ``rollup_run`` (the roll-up engine on the open reports), ``rollup_request``.
- ``scada``: ``scada_event_apply`` (switch-state telemetry).
"""

from .common import outage_qs_for_update
from .intake import report_process, report_resolve, report_submit
from .interruptions import (
    outage_add_device,
    outage_open_nested,
    outage_restore_device,
    outage_widen,
)
from .lifecycle import (
    outage_create,
    outage_restore,
    outage_set_cause,
    outage_set_description,
    outage_set_etr,
    outage_transition,
)
from .manual import outage_declare_by_hand
from .planned import planned_outage_create, planned_outage_publish_notice, planned_outage_start
from .rollup_service import rollup_request, rollup_run
from .scada import scada_event_apply

__all__ = [
    "outage_add_device",
    "outage_create",
    "outage_declare_by_hand",
    "outage_open_nested",
    "outage_qs_for_update",
    "outage_restore",
    "outage_restore_device",
    "outage_set_cause",
    "outage_set_description",
    "outage_set_etr",
    "outage_transition",
    "outage_widen",
    "planned_outage_create",
    "planned_outage_publish_notice",
    "planned_outage_start",
    "report_process",
    "report_resolve",
    "report_submit",
    "rollup_request",
    "rollup_run",
    "scada_event_apply",
]
