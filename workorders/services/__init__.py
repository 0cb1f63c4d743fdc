"""Writes of the work-orders app. Submodules own one concern each; import from here.

- ``raising``: ``work_order_create`` and the ``work_order_raise_for_*`` event reactions.
- ``lifecycle``: ``work_order_transition`` (the only status change), cancel, merge, close,
  reactions to outage cancellation and restoration.
- ``progress``: the crew's steps (accept, reject, depart, arrive, findings, restore, complete).
- ``satisfaction``: the return visit on a closed order (satisfied or not).
- ``visits``: the return visit (reopening the work), the console's outage actions (ETR,
  confirm) through ``outages.services``.
- ``dispatch``: automatic dispatch (direct, pre-emption), manual assignment, re-dispatch,
  accept timeouts, crews going off duty, the stuck-order sweeper; ``batch``: storm mode;
  ``assign``: the assignment and decision record they share.
- ``pool``: the grab pool (publish, claim, expiry).
- ``sla``: deadlines and the warning / breach marks.
- ``crew``: location pings, the idempotency wrapper; ``crew_actions``: one service per action
  of the crew app (``crew_action_run`` checks and runs it in the wrapper); ``photos``: site
  photo checks.
- ``console``: the console's dispatch button (manual, overriding the filters with a reason,
  or back to automatic); ``placing``: putting an order without a position on the map.
- ``common``: locks (``crew_qs_for_update``), the timeline, the compare-and-set, settings.
"""

from .batch import work_orders_dispatch_batch
from .common import crew_qs_for_update
from .console import work_order_dispatch_by_hand
from .crew import crew_action_idempotent, crew_locations_record
from .crew_actions import (
    ACTIONS_BY_STATUS,
    CREW_ACTIONS,
    CrewAction,
    crew_action_check,
    crew_action_run,
    crew_actions_allowed,
)
from .dispatch import (
    crew_set_on_duty,
    work_order_assign,
    work_order_dispatch_auto,
    work_order_offer_expire,
    work_order_redispatch,
    work_order_requeue,
)
from .lifecycle import (
    work_order_cancel,
    work_order_close,
    work_order_merge,
    work_order_transition,
    work_orders_outage_cancelled,
    work_orders_outage_restored,
)
from .photos import photo_check, sniff_image_type, work_order_photos_store
from .placing import work_order_place
from .pool import work_order_claim, work_order_pool_expire, work_order_publish
from .progress import (
    crew_order_check,
    work_order_accept,
    work_order_arrive,
    work_order_complete,
    work_order_depart,
    work_order_record_findings,
    work_order_reject,
    work_order_restore,
)
from .raising import work_order_create, work_order_raise_for_outage, work_order_raise_for_report
from .satisfaction import work_order_satisfaction_record
from .sla import work_order_sla_check
from .visits import work_order_confirm_outage, work_order_return_visit, work_order_set_outage_etr

__all__ = [
    "work_order_satisfaction_record",
    "ACTIONS_BY_STATUS",
    "CREW_ACTIONS",
    "CrewAction",
    "crew_action_check",
    "crew_action_idempotent",
    "crew_action_run",
    "crew_actions_allowed",
    "crew_order_check",
    "crew_locations_record",
    "crew_qs_for_update",
    "crew_set_on_duty",
    "photo_check",
    "sniff_image_type",
    "work_order_accept",
    "work_order_arrive",
    "work_order_assign",
    "work_order_cancel",
    "work_order_claim",
    "work_order_close",
    "work_order_complete",
    "work_order_confirm_outage",
    "work_order_create",
    "work_order_depart",
    "work_order_dispatch_by_hand",
    "work_order_dispatch_auto",
    "work_order_merge",
    "work_order_offer_expire",
    "work_order_photos_store",
    "work_order_place",
    "work_order_pool_expire",
    "work_order_publish",
    "work_order_raise_for_outage",
    "work_order_raise_for_report",
    "work_order_record_findings",
    "work_order_redispatch",
    "work_order_reject",
    "work_order_requeue",
    "work_order_restore",
    "work_order_return_visit",
    "work_order_set_outage_etr",
    "work_order_sla_check",
    "work_order_transition",
    "work_orders_dispatch_batch",
    "work_orders_outage_cancelled",
    "work_orders_outage_restored",
]
