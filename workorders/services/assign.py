"""Assigning orders to crews, and recording why: the shared core of every dispatch path.

``_apply_picks`` locks the chosen crews, re-checks duty and capacity, compare-and-sets the
orders and writes the decisions (candidates with their score components, the crews filtered
out and why) and timeline rows in bulk. ``_competitors`` narrows a thousand crews down to
those that could win before the dispatch module ranks them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import ConcurrentUpdate, Conflict, TransitionNotAllowed
from grids.models import Crew
from workorders import dispatching
from workorders.models import DispatchDecision, WorkOrder, WorkOrderEvent

from . import common

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Mode = DispatchDecision.Mode
# Candidates and filtered-out crews kept on a decision (the nearest filtered ones matter:
# "why not the crew next door?").
KEEP_CANDIDATES = 10
KEEP_FILTERED = 30
# Above this many crews, only those that could win are ranked (see ``_competitors``).
PREFILTER_ABOVE = 200


def dispatch_policy() -> dispatching.DispatchPolicy:
    """The module's policy with the project's storm threshold and re-planning threshold
    (``WORKORDERS_REPLAN_MIN_GAIN_MINUTES``: an offer not yet accepted moves to another crew
    only when the plan gains at least this many minute-equivalents per moved offer)."""
    return dispatching.DispatchPolicy(
        storm_threshold=common.conf().storm_threshold,
        replan_min_gain_min=float(
            getattr(
                settings,
                "WORKORDERS_REPLAN_MIN_GAIN_MINUTES",
                dispatching.DEFAULT_POLICY.replan_min_gain_min,
            )
        ),
    )


@dataclass
class Pick:
    """An order to give to a crew, with what to record about the choice."""

    order: WorkOrder
    crew_id: int
    candidates: list[dict[str, Any]] = field(default_factory=list)
    filtered_out: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Applied:
    """What ``_apply_picks`` did: orders assigned, orders that had changed, crews full."""

    done: list[WorkOrder] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    crew_unavailable: list[int] = field(default_factory=list)


def _apply_picks(
    picks: Sequence[Pick],
    *,
    mode: str,
    actor: User | None = None,
    actor_label: str = "dispatch",
    check_capacity: bool = True,
    strict: bool = False,
) -> Applied:
    """Dispatch each pick's order to its crew in the caller's transaction.

    Locks the crews (pk order), recounts their open orders, locks the outages, then moves
    the orders with a compare-and-set: ``common.cas`` for one pick, ``common.cas_dispatch_many``
    (one conditional ``UPDATE`` for all) for several; both check the transition table as
    ``work_order_transition`` does. Decisions and timeline rows are inserted in bulk. A crew
    off duty or full (``check_capacity``) or an order that changed is skipped, or raises with
    ``strict``.
    """
    out = Applied()
    if not picks:
        return out
    crews = common.lock_crews([p.crew_id for p in picks])
    common.lock_outages([p.order.outage_id for p in picks if common.moves_outage(p.order)])
    now = timezone.now()
    fit = _fit_picks(picks, crews, out, check_capacity=check_capacity, strict=strict)
    previous: dict[int, str] = {}
    if len(fit) == 1 or strict:
        for pick, crew in fit:
            try:
                previous[pick.order.pk], _at = common.cas(
                    order=pick.order, to=Status.DISPATCHED, at=now, extra={"crew": crew}
                )
            except (ConcurrentUpdate, TransitionNotAllowed):
                if strict:
                    raise
                out.changed.append(pick.order.pk)
    else:
        previous = common.cas_dispatch_many([(pick.order, crew) for pick, crew in fit], at=now)
        out.changed.extend(p.order.pk for p, _crew in fit if p.order.pk not in previous)
    moved = [(pick, crew) for pick, crew in fit if pick.order.pk in previous]
    _record_picks(moved, previous, mode=mode, actor=actor, actor_label=actor_label, at=now)
    out.done.extend(pick.order for pick, _crew in moved)
    label = common.label_for(actor, actor_label)
    for order in out.done:
        common.outage_crew_dispatched(order, actor=actor, label=label)
    common.crew_refresh_status(o.crew_id for o in out.done)
    return out


def _fit_picks(
    picks: Sequence[Pick],
    crews: dict[int, Crew],
    out: Applied,
    *,
    check_capacity: bool,
    strict: bool,
) -> list[tuple[Pick, Crew]]:
    """The picks whose crew (locked) is on duty and, with ``check_capacity``, has room after
    the picks before it; the others go to ``out.crew_unavailable``, or raise with ``strict``."""
    counts = common.crew_open_counts(crews)
    fit: list[tuple[Pick, Crew]] = []
    for pick in picks:
        crew = crews.get(pick.crew_id)
        if crew is None or not crew.on_duty:
            if strict:
                raise Conflict(_("该班组不在班，不能派单。"), code="crew_off_duty")
            out.crew_unavailable.append(pick.crew_id)
            continue
        if check_capacity and counts.get(crew.pk, 0) >= crew.capacity:
            if strict:
                raise Conflict(_("该班组在手工单已满。"), code="crew_full")
            out.crew_unavailable.append(pick.crew_id)
            continue
        counts[crew.pk] = counts.get(crew.pk, 0) + 1
        fit.append((pick, crew))
    return fit


def _record_picks(
    moved: Sequence[tuple[Pick, Crew]],
    previous: dict[int, str],
    *,
    mode: str,
    actor: User | None,
    actor_label: str,
    at: datetime,
) -> None:
    """The decisions and timeline rows of the orders just dispatched, in bulk."""
    decisions: list[DispatchDecision] = []
    events: list[WorkOrderEvent] = []
    for pick, crew in moved:
        order = pick.order
        chosen = next((c for c in pick.candidates if c.get("crew_id") == crew.pk), None)
        decisions.append(
            DispatchDecision(
                order=order,
                crew=crew,
                mode=mode,
                candidates=pick.candidates,
                filtered_out=pick.filtered_out,
                data=pick.data,
                actor=actor,
                at=at,
            )
        )
        events.append(
            common.make_event(
                order=order,
                kind=WorkOrderEvent.Kind.STATUS_CHANGED,
                at=at,
                actor=actor,
                actor_label=actor_label,
                from_status=previous[order.pk],
                to_status=Status.DISPATCHED,
                crew_id=crew.pk,
                reason=pick.data.get("reason", ""),
                data={"mode": mode, "cost": chosen.get("cost") if chosen else None},
            )
        )
    DispatchDecision.objects.bulk_create(decisions)
    for event, decision in zip(events, decisions, strict=True):
        event.data["decision_id"] = decision.pk
    WorkOrderEvent.objects.bulk_create(events)


# --- explaining a ranking ----------------------------------------------------------------------


def _crew_names(ids: set[int]) -> dict[int, tuple[str, str]]:
    return {
        pk: (code, name)
        for pk, code, name in Crew.objects.filter(pk__in=ids).values_list("pk", "code", "name")
    }


def _payload(
    request: dispatching.OrderRequest,
    ranking: dispatching.Ranking,
    states: Sequence[dispatching.CrewState],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """(candidates, nearest filtered-out crews, counts per filter reason) to record."""
    by_id = {s.id: s for s in states}

    def distance(crew_id: int) -> float:
        s = by_id[crew_id]
        if s.lat is None or s.lng is None:
            return float("inf")
        return float(dispatching.haversine_km(request.lat, request.lng, s.lat, s.lng))

    filtered = sorted(ranking.filtered, key=lambda f: (distance(f.crew_id), f.crew_id))
    filtered = filtered[:KEEP_FILTERED]
    candidates = [c.as_dict() for c in ranking.candidates[:KEEP_CANDIDATES]]
    names = _crew_names({c["crew_id"] for c in candidates} | {f.crew_id for f in filtered})
    for c in candidates:
        c["crew_code"], c["crew_name"] = names.get(c["crew_id"], ("", ""))
    out_filtered = []
    for f in filtered:
        code, name = names.get(f.crew_id, ("", ""))
        d = distance(f.crew_id)
        out_filtered.append(
            {
                "crew_id": f.crew_id,
                "crew_code": code,
                "crew_name": name,
                "reasons": list(f.reasons),
                "distance_km": None if d == float("inf") else round(d, 3),
            }
        )
    counts = Counter(r for f in ranking.filtered for r in f.reasons)
    return candidates, out_filtered, dict(counts)


@transaction.atomic
def _record_unassigned(
    order: WorkOrder,
    *,
    outcome: str,
    mode: str = Mode.DIRECT,
    candidates: list[dict[str, Any]] | None = None,
    filtered_out: list[dict[str, Any]] | None = None,
    counts: dict[str, int] | None = None,
) -> DispatchDecision:
    """Record that no crew could be given ``order`` now. A re-run with the same outcome while
    the order keeps waiting updates the last decision (``attempts``) instead of piling up
    rows; the sweeper retries after ``WORKORDERS_DISPATCH_STALE_SECONDS``."""
    now = timezone.now()
    since = order.waiting_since or order.created_at
    last = DispatchDecision.objects.filter(order=order).order_by("-at", "-pk").first()
    data: dict[str, Any] = {"filtered_counts": counts or {}}
    if last is not None and last.crew_id is None and last.outcome == outcome and last.at >= since:
        data["attempts"] = int(last.data.get("attempts", 1)) + 1
        DispatchDecision.objects.filter(pk=last.pk).update(
            at=now, candidates=candidates or [], filtered_out=filtered_out or [], data=data
        )
        decision = last
    else:
        decision = DispatchDecision.objects.create(
            order=order,
            crew=None,
            mode=mode,
            outcome=outcome,
            candidates=candidates or [],
            filtered_out=filtered_out or [],
            data=data,
            at=now,
        )
        common.record_event(
            order=order,
            kind=WorkOrderEvent.Kind.DISPATCH_DECISION,
            at=now,
            actor_label="dispatch",
            reason=_(dispatching.REASON_LABELS.get(outcome, outcome)),
            data={"outcome": outcome, "decision_id": decision.pk, "filtered_counts": counts or {}},
        )
    WorkOrder.objects.filter(pk=order.pk).update(dispatch_requested_at=now)
    return decision


def _competitors(
    request: dispatching.OrderRequest,
    states: Sequence[dispatching.CrewState],
    *,
    now: datetime,
    policy: dispatching.DispatchPolicy,
) -> tuple[list[dispatching.CrewState], dict[str, int]]:
    """The crews worth ranking for ``request``, and the filter counts over *all* crews.

    ``rank_crews`` looks at every crew it is given, one by one; with a thousand crews that is
    most of a dispatch. A crew far away cannot win, and this bound says which: every cost
    term but territory is non-negative and territory is at least ``-territory_bonus_min``,
    so a crew whose *lower* bound (travel at the fastest speed + workload − territory bonus)
    exceeds the best eligible crew's *upper* bound (travel at the slowest speed + workload +
    lateness at that speed) is dropped. The best crew is therefore the one ranking all crews
    would pick; the runner-up list only holds crews that could compete. The nearest
    ineligible crews are kept too, for the "why not that crew" record.
    """
    n = len(states)
    has = np.array([s.lat is not None and s.lng is not None for s in states], dtype=bool)
    lat = np.array([s.lat if s.lat is not None else 0.0 for s in states], dtype=np.float64)
    lng = np.array([s.lng if s.lng is not None else 0.0 for s in states], dtype=np.float64)
    dist = np.where(has, dispatching.haversine_km(request.lat, request.lng, lat, lng), np.inf)
    on_duty = np.array([s.on_duty for s in states], dtype=bool)
    open_orders = np.array([s.open_orders for s in states], dtype=np.float64)
    full = np.array([s.spare <= 0 for s in states], dtype=bool)
    skill = request.skill_needed
    skill_ok = np.array([not skill or skill in s.skills for s in states], dtype=bool)
    counts = {
        dispatching.OFF_DUTY: int((~on_duty).sum()),
        dispatching.NO_POSITION: int((~has).sum()),
        dispatching.MISSING_SKILL: int((~skill_ok).sum()),
        dispatching.NO_CAPACITY: int(full.sum()),
    }
    counts = {k: v for k, v in counts.items() if v}
    if n <= PREFILTER_ABOVE:
        return list(states), counts
    eligible = on_duty & has & ~full & skill_ok
    keep = np.zeros(n, dtype=bool)
    ineligible = np.flatnonzero(~eligible)
    keep[ineligible[np.argsort(dist[ineligible], kind="stable")[:KEEP_FILTERED]]] = True
    if eligible.any():
        speeds = list(policy.speed_kmh.values())
        per_km_fast = policy.road_factor / max(speeds) * 60.0
        per_km_slow = policy.road_factor / min(speeds) * 60.0
        slack = (
            (request.sla_deadline_at - now).total_seconds() / 60.0
            if request.sla_deadline_at is not None
            else np.inf
        )
        workload = policy.workload_min_per_order * open_orders
        slow = dist * per_km_slow
        upper = policy.travel_weight * slow + workload
        upper = upper + policy.sla_late_weight * np.maximum(0.0, slow - slack)
        lower = policy.travel_weight * dist * per_km_fast + workload - policy.territory_bonus_min
        best_upper = float(upper[eligible].min())
        keep |= eligible & (lower <= best_upper)
    return [states[int(i)] for i in np.flatnonzero(keep)], counts
