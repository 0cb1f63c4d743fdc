"""Work orders: the repair jobs, their timeline, SLA clocks, dispatch decisions and the grab pool.

A ``WorkOrder`` is one job for one crew: the repair of an outage (one per outage, never one
per call), a visit to a single premise, a danger response (sparks, a wire down), an inspection
or planned job, or a complaint follow-up. ``WorkOrderEvent`` is its timeline. Only
``workorders.services`` writes these rows, and only its ``work_order_transition`` changes
``WorkOrder.status`` (compare-and-set on status and ``version``, STYLE.md §3).

Dispatch records every decision (``DispatchDecision``: the candidates and their score
components, the crews filtered out and why) so the console can explain "why this crew".
Crews that refused an order or let the offer time out are remembered (``DispatchRefusal``) so
re-dispatch skips them. The grab pool (抢单) is ruled by ``PoolPolicy`` rows; per-crew claim
and skip counts (``CrewPoolStats``) make cherry-picking visible.
"""

from .decisions import DispatchDecision, DispatchRefusal, WorkOrderEvent
from .field import CrewActionRecord, CrewLocation, ReturnVisit, WorkOrderPhoto, _photo_path
from .orders import WorkOrder
from .policies import CrewPoolStats, PoolPolicy, SlaPolicy
from .satisfaction import SatisfactionVisit

__all__ = [
    "CrewActionRecord",
    "CrewLocation",
    "CrewPoolStats",
    "DispatchDecision",
    "DispatchRefusal",
    "PoolPolicy",
    "ReturnVisit",
    "SatisfactionVisit",
    "SlaPolicy",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderPhoto",
    "_photo_path",
]
