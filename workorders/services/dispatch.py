"""Dispatch: finding a crew for an order, with ``workorders.dispatching`` deciding.

* **Direct** (``work_order_dispatch_auto``, the body of the dispatch task): load the crews and
  the order, rank with ``pick_next_crew`` (crews that refused or timed out are excluded),
  assign the best crew that still has room, record the decision. An urgent order that no
  free crew reaches quickly may take a crew from a non-urgent order (the module's
  pre-emption policy), recorded on both orders.
* **Storm** (``batch.work_orders_dispatch_batch``): when more orders wait than
  ``WORKORDERS_STORM_THRESHOLD``, non-urgent orders are left to a debounced batch task that
  matches them all at once (``plan_dispatch``: minimum-cost assignment in batches,
  respecting capacity). Urgent orders are still assigned at once by their own task.
* **Manual** (``work_order_assign``): a dispatcher's choice, recorded with the live ranking.

Idempotence: the task message carries the order's ``version``; the assignment is a
compare-and-set on status and version, so a duplicate or stale message changes nothing.
Capacity: the chosen crew's row is locked and its open orders recounted before assigning,
so two concurrent dispatches cannot overfill it. Lock order: crews → outages → orders.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    TransitionNotAllowed,
)
from grids import services as grid_services
from grids.models import Crew
from workorders import dispatching, selectors
from workorders.models import DispatchRefusal, WorkOrder, WorkOrderEvent

from . import batch_lease, common
from .assign import (
    Mode,
    Pick,
    _apply_picks,
    _competitors,
    _payload,
    _record_unassigned,
    dispatch_policy,
)
from .lifecycle import work_order_transition

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
# How many runner-up crews the direct path tries when the best one filled up meanwhile.
TRY_CANDIDATES = 5
_REFUSAL_REASONS = frozenset({dispatching.REJECTED, dispatching.TIMED_OUT})
# Which of a busy crew's orders an urgent order would take it from: the one it is heading to.
STAGE_RANK: dict[str, int] = {
    Status.DISPATCHED: 1,
    Status.CLAIMED: 1,
    Status.ACCEPTED: 2,
    Status.EN_ROUTE: 3,
}


# --- direct dispatch ---------------------------------------------------------------------------


def work_order_dispatch_auto(*, order_id: int, version: int | None = None) -> WorkOrder | None:
    """Find a crew for order ``order_id`` (the dispatch task's body); idempotent.

    Does nothing when the order is gone, no longer waits for dispatch, or has moved past
    ``version`` (a duplicate or stale message). A non-urgent order goes to the grab pool
    first when its pool policy says so (once), and to the storm batch when too many orders
    wait. Returns the order if a crew was assigned now.
    """
    order = WorkOrder.objects.select_related("grid", "skill_needed").filter(pk=order_id).first()
    if order is None:
        logger.warning("dispatch: order %s is gone", order_id)
        return None
    if order.status not in WorkOrder.NEEDS_DISPATCH or (
        version is not None and order.version != version
    ):
        return None
    if not order.is_urgent:
        policy = selectors.pool_policy_for(order)
        if (
            policy is not None
            and policy.enabled
            and policy.auto_publish
            and order.published_at is None
        ):
            from .pool import work_order_publish

            try:
                work_order_publish(order=order, actor=None, actor_label="dispatch")
                return None
            except DomainError as exc:
                logger.info("dispatch: order %s not pooled (%s)", order.pk, exc.code)
        if selectors.work_orders_waiting_count() > common.conf().storm_threshold:
            batch_lease.batch_schedule()
            return None
    return _dispatch_one(order, now=timezone.now())


def _dispatch_one(
    order: WorkOrder,
    *,
    now: datetime,
    states: list[dispatching.CrewState] | None = None,
) -> WorkOrder | None:
    request = selectors.work_order_dispatch_request(order)
    if request is None:
        _record_unassigned(order, outcome="no_location")
        return None
    states = states if states is not None else selectors.crew_states_for_dispatch()
    rejected, timed_out = selectors.work_order_refusals(order.pk)
    policy = dispatch_policy()
    competing, all_counts = _competitors(request, states, now=now, policy=policy)
    ranking = dispatching.pick_next_crew(
        request, competing, rejected_by=rejected, timed_out=timed_out, now=now, policy=policy
    )
    candidates, filtered, counts = _payload(request, ranking, competing)
    # Counts over every crew (the ranking only saw the competitors), plus the refusals.
    counts = {**all_counts, **{k: v for k, v in counts.items() if k in _REFUSAL_REASONS}}
    # An urgent order looks at busy crews first when no free crew is close: taking one from a
    # routine job may save more than the policy's minimum gain.
    if (
        order.is_urgent
        and (ranking.best is None or ranking.best.travel_min > policy.preempt_min_gain_min)
        and _try_preempt(order, request, states, ranking, now=now, policy=policy)
    ):
        return order
    for candidate in ranking.candidates[:TRY_CANDIDATES]:
        pick = Pick(
            order=order,
            crew_id=candidate.crew_id,
            candidates=candidates,
            filtered_out=filtered,
            data={"filtered_counts": counts, "urgent": order.is_urgent},
        )
        with transaction.atomic():
            applied = _apply_picks([pick], mode=Mode.DIRECT)
        if applied.done:
            return order
        if applied.changed:
            return None
    _record_unassigned(
        order,
        outcome=dispatching.NO_ELIGIBLE_CREW,
        candidates=candidates,
        filtered_out=filtered,
        counts=counts,
    )
    return None


def _try_preempt(
    order: WorkOrder,
    request: dispatching.OrderRequest,
    states: list[dispatching.CrewState],
    ranking: dispatching.Ranking,
    *,
    now: datetime,
    policy: dispatching.DispatchPolicy,
) -> bool:
    """Take a busy crew off a non-urgent order for urgent ``order`` when the module allows
    it; the victim goes back to dispatch (the crew is never offered it again) and both
    timelines say why. Returns whether a crew was taken."""
    best_free = ranking.best
    if best_free is not None and best_free.travel_min <= policy.preempt_min_gain_min:
        return False  # no busy crew can beat a free one by the minimum gain
    busy = _busy_crews_near(request, states)
    if not busy:
        return False
    options = _preemption_options(request, busy, best_free, now=now, policy=policy)
    if not options:
        return False
    choice = min(options, key=lambda o: (o.crew_travel_min, o.crew.id))
    try:
        with transaction.atomic():
            _preempt(order, request, choice, best_free, now=now, policy=policy)
    except (ConcurrentUpdate, TransitionNotAllowed, Conflict) as exc:
        logger.info("dispatch: pre-emption for order %s failed (%s)", order.pk, exc)
        return False
    return True


# How many busy crews, nearest first, pre-emption looks at.
PREEMPT_LOOK_AT = 10


@dataclasses.dataclass(frozen=True)
class _PreemptOption:
    """A busy crew an urgent order may take, the order it would leave, and why it may."""

    crew: dispatching.CrewState
    victim: WorkOrder
    decision: dispatching.PreemptionDecision

    @property
    def crew_travel_min(self) -> float:
        return float(self.decision.details["crew_travel_min"] or 0.0)


def _busy_crews_near(
    request: dispatching.OrderRequest, states: list[dispatching.CrewState]
) -> list[dispatching.CrewState]:
    """The nearest full crews fit for ``request`` (on duty, located, skilled)."""
    busy = [
        s
        for s in states
        if s.on_duty
        and s.lat is not None
        and s.lng is not None
        and s.spare == 0
        and (not request.skill_needed or request.skill_needed in s.skills)
    ]
    busy.sort(
        key=lambda s: float(
            dispatching.haversine_km(request.lat, request.lng, s.lat or 0.0, s.lng or 0.0)
        )
    )
    return busy[:PREEMPT_LOOK_AT]


def _preemption_options(
    request: dispatching.OrderRequest,
    busy: list[dispatching.CrewState],
    best_free: dispatching.Candidate | None,
    *,
    now: datetime,
    policy: dispatching.DispatchPolicy,
) -> list[_PreemptOption]:
    """For each busy crew not on site and not on urgent work, the order it is heading to,
    kept when the module allows taking the crew off it."""
    held: dict[int, list[WorkOrder]] = defaultdict(list)
    for o in WorkOrder.objects.filter(
        crew_id__in=[s.id for s in busy], status__in=WorkOrder.WITH_CREW
    ).select_related("grid", "skill_needed"):
        if o.crew_id is not None:
            held[o.crew_id].append(o)
    options = []
    for s in busy:
        orders = held.get(s.id, [])
        if not orders or any(o.status == Status.ON_SITE or o.is_urgent for o in orders):
            continue
        victim = max(orders, key=lambda o: (STAGE_RANK.get(o.status, 0), -o.pk))
        victim_request = selectors.work_order_dispatch_request(victim)
        if victim_request is None:
            continue
        decision = dispatching.preemption_decide(
            urgent_order=request,
            crew=s,
            current_order=victim_request,
            current_stage=victim.status,
            best_free=best_free,
            now=now,
            policy=policy,
        )
        if decision.allowed:
            options.append(_PreemptOption(s, victim, decision))
    return options


def _preempt(
    order: WorkOrder,
    request: dispatching.OrderRequest,
    choice: _PreemptOption,
    best_free: dispatching.Candidate | None,
    *,
    now: datetime,
    policy: dispatching.DispatchPolicy,
) -> None:
    """In the caller's transaction: the victim back to dispatch (a refusal, so the crew is
    not offered it again), the crew to ``order``, a pre-emption line on both timelines."""
    crew_state, victim, decision = choice.crew, choice.victim, choice.decision
    details = dict(decision.details)
    reason = _(dispatching.REASON_LABELS[decision.reason])
    common.lock_crews([crew_state.id])
    common.lock_outages([o.outage_id for o in (order, victim) if common.moves_outage(o)])
    work_order_transition(
        order=victim,
        to=Status.REJECTED,
        actor=None,
        actor_label="dispatch",
        reason=_("班组被紧急工单 #%(id)s 抽调") % {"id": order.pk},
        refusal=DispatchRefusal.Reason.PREEMPTED,
        data={"cause": "preempted", "preempted_by": order.pk, "policy": details},
    )
    common.record_event(
        order=victim,
        kind=WorkOrderEvent.Kind.PREEMPTED,
        at=timezone.now(),
        actor_label="dispatch",
        crew_id=crew_state.id,
        reason=reason,
        data={"urgent_order": order.pk, **details},
    )
    freed = dataclasses.replace(crew_state, open_orders=crew_state.open_orders - 1)
    ranking_one = dispatching.rank_crews(request, [freed], now=now, policy=policy)
    candidates = [c.as_dict() for c in ranking_one.candidates]
    if best_free is not None:
        candidates.append({**best_free.as_dict(), "best_free": True})
    _apply_picks(
        [
            Pick(
                order=order,
                crew_id=crew_state.id,
                candidates=candidates,
                data={"preempted_order": victim.pk, "preemption": details},
            )
        ],
        mode=Mode.DIRECT,
        strict=True,
    )
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.PREEMPTED,
        at=timezone.now(),
        actor_label="dispatch",
        crew_id=crew_state.id,
        reason=reason,
        data={"from_order": victim.pk, **details},
    )


# --- dispatcher's actions ------------------------------------------------------------------------


@transaction.atomic
def work_order_assign(
    *,
    order: WorkOrder,
    crew: Crew,
    actor: User | None,
    reason: str = "",
    override: bool = False,
) -> WorkOrder:
    """A dispatcher sends ``order`` to ``crew`` (dispatch, or re-dispatch from another crew
    not yet on site). Recorded as a manual decision with the live ranking beside it, so the
    console shows what the engine would have done. An off-duty crew is refused; a full one is
    allowed (the dispatcher's call) and marked ``over_capacity``. ``override`` records that
    the dispatcher chose a crew the filters exclude, with the reasons it was excluded for."""
    allowed = (
        WorkOrder.NEEDS_DISPATCH | {Status.PUBLISHED} | (WorkOrder.WITH_CREW - {Status.ON_SITE})
    )
    if order.status not in allowed:
        raise TransitionNotAllowed(order.status, Status.DISPATCHED)
    if order.crew_id == crew.pk:
        raise Conflict(_("工单已派给该班组。"), code="already_assigned")
    now = timezone.now()
    candidates: list[dict[str, Any]] = []
    filtered: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    request = selectors.work_order_dispatch_request(order)
    if request is not None:
        states = selectors.crew_states_for_dispatch()
        rejected, timed_out = selectors.work_order_refusals(order.pk)
        ranking = dispatching.pick_next_crew(
            request, states, rejected_by=rejected, timed_out=timed_out, now=now
        )
        candidates, filtered, counts = _payload(request, ranking, states)
    locked = common.lock_crews([order.crew_id, crew.pk])
    common.lock_outages([order.outage_id])
    target = locked.get(crew.pk)
    if target is None or not target.on_duty:
        raise Conflict(_("该班组不在班，不能派单。"), code="crew_off_duty")
    if order.status in WorkOrder.WITH_CREW:
        work_order_transition(
            order=order,
            to=Status.REJECTED,
            actor=actor,
            reason=reason or _("调度员改派"),
            refusal=DispatchRefusal.Reason.WITHDRAWN,
            redispatch=False,
            data={"cause": "reassigned", "to_crew": crew.pk},
        )
    over = common.crew_open_counts([crew.pk]).get(crew.pk, 0) >= target.capacity
    data: dict[str, Any] = {"filtered_counts": counts, "over_capacity": over, "reason": reason}
    if override:
        data["override"] = True
        data["excluded_for"] = next(
            (f["reasons"] for f in filtered if f["crew_id"] == crew.pk),
            [] if request is not None else ["no_location"],
        )
    _apply_picks(
        [
            Pick(
                order=order,
                crew_id=crew.pk,
                candidates=candidates,
                filtered_out=filtered,
                data=data,
            )
        ],
        mode=Mode.MANUAL,
        actor=actor,
        check_capacity=False,
        strict=True,
    )
    return order


@transaction.atomic
def work_order_redispatch(*, order: WorkOrder, actor: User | None, reason: str = "") -> WorkOrder:
    """Hand ``order`` back to automatic dispatch now: withdrawn from its crew (not yet on
    site; that crew is not offered it again) or from the pool, or simply re-run."""
    if order.status in WorkOrder.WITH_CREW - {Status.ON_SITE}:
        return work_order_transition(
            order=order,
            to=Status.REJECTED,
            actor=actor,
            reason=reason or _("调度员重新派单"),
            refusal=DispatchRefusal.Reason.WITHDRAWN,
            data={"cause": "redispatch"},
        )
    if order.status == Status.PUBLISHED:
        return work_order_transition(
            order=order, to=Status.CREATED, actor=actor, reason=reason or _("撤回抢单")
        )
    if order.status in WorkOrder.NEEDS_DISPATCH:
        common.request_dispatch(order)
        return order
    raise TransitionNotAllowed(order.status, Status.DISPATCHED)


# --- timeouts, duty, the sweeper --------------------------------------------------------------


@transaction.atomic
def work_order_offer_expire(*, order_id: int, now: datetime | None = None) -> WorkOrder | None:
    """The crew did not accept in time: back to dispatch, and that crew is skipped next time.
    Does nothing when the offer was accepted, withdrawn or renewed meanwhile."""
    now = now or timezone.now()
    order = WorkOrder.objects.filter(pk=order_id).first()
    if (
        order is None
        or order.status not in WorkOrder.AWAITING_ACCEPT
        or order.offer_expires_at is None
        or order.offer_expires_at > now
    ):
        return None
    return work_order_transition(
        order=order,
        to=Status.REJECTED,
        actor=None,
        actor_label="beat",
        reason=_("班组接单超时"),
        refusal=DispatchRefusal.Reason.TIMED_OUT,
        data={"cause": "timed_out"},
    )


@transaction.atomic
def crew_set_on_duty(
    *, crew: Crew, on_duty: bool, actor: User | None, actor_label: str = ""
) -> Crew:
    """Put a crew on or off duty. Off duty: its orders not yet accepted go back to dispatch
    (the crew is not offered them again); accepted ones stay with it for the dispatcher to
    decide. The crew row itself is written by ``grids.services.crew_on_duty_set``."""
    locked = common.lock_crews([crew.pk])[crew.pk]
    if locked.on_duty != on_duty:
        grid_services.crew_on_duty_set(crew_id=crew.pk, on_duty=on_duty)
        locked.on_duty = on_duty
        if not on_duty:
            for order in WorkOrder.objects.filter(
                crew_id=crew.pk, status__in=WorkOrder.AWAITING_ACCEPT
            ).order_by("pk"):
                work_order_transition(
                    order=order,
                    to=Status.REJECTED,
                    actor=actor,
                    actor_label=actor_label,
                    reason=_("班组下班"),
                    refusal=DispatchRefusal.Reason.OFF_DUTY,
                    data={"cause": "off_duty"},
                )
        common.crew_refresh_status([crew.pk])
    locked.refresh_from_db()
    return locked


@transaction.atomic
def work_order_requeue(*, order_id: int, now: datetime | None = None) -> bool:
    """Sweeper: ask again for a crew for an order whose dispatch is overdue (lost message,
    worker killed mid-task, or no crew last time). Claims the re-queue with a conditional
    update on ``dispatch_requested_at`` so two sweepers never both enqueue it."""
    now = now or timezone.now()
    stale = common.conf().dispatch_stale
    order = WorkOrder.objects.filter(pk=order_id, status__in=WorkOrder.NEEDS_DISPATCH).first()
    if order is None:
        return False
    seen = order.dispatch_requested_at
    if seen is not None and seen > now - stale:
        return False
    rows = WorkOrder.objects.filter(
        pk=order.pk, status=order.status, version=order.version, dispatch_requested_at=seen
    ).update(dispatch_requested_at=now)
    if rows != 1:
        return False
    common.request_dispatch(order)
    return True
