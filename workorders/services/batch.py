"""Storm mode: when more orders wait than ``WORKORDERS_STORM_THRESHOLD``, the non-urgent
ones are matched all at once by the dispatch module's minimum-cost assignment
(``plan_dispatch``), respecting crews' spare capacity, together with the offers no crew has
accepted yet (the rolling horizon, ``replan``). A debounced task runs the batch (one at a time,
under a lease: ``batch_lease``); urgent orders never wait for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from workorders import dispatching, selectors
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder

from . import batch_lease, common, replan
from .assign import Mode, Pick, _apply_picks, _crew_names, dispatch_policy
from .dispatch import _dispatch_one

logger = logging.getLogger(__name__)


def work_orders_dispatch_batch(*, now: datetime | None = None) -> dict[str, int]:
    """Match every waiting non-urgent order to crews at once (storm mode).

    One batch runs at a time, under a short lease renewed while it runs
    (``batch_lease``): a batch whose worker was killed frees the lease within seconds. A
    batch that finds the lease taken stamps the batch debt (the running batch re-runs when
    it ends) and asks for one batch when the lease would expire, never in a loop. Orders with
    refusals are dispatched one by one (the batch solver knows no per-order exclusions); the
    rest go through ``plan_dispatch`` with the standing offers (rolling horizon: an offer
    moves only for more than ``WORKORDERS_REPLAN_MIN_GAIN_MINUTES``) and are assigned
    ``batch_size`` per transaction, so the first are committed early; a batch that lost its
    lease stops committing. Orders left
    without a crew get one "no crew" decision and are retried by the next batch or the
    sweeper. Returns counts for the log.
    """
    lease = batch_lease.BatchLease.acquire()
    if lease is None:
        batch_lease.batch_schedule(countdown=batch_lease.lease_remaining_seconds() + 0.5)
        return {"skipped": 1}
    try:
        with lease.kept_alive():
            cache.delete(common.BATCH_SCHEDULED_KEY)
            seen = batch_lease.batch_owed()
            stats = _run_batch(now or timezone.now(), lease)
    finally:
        lease.release()
    if not batch_lease.batch_settle(seen):
        # Orders were deferred to the batch while this one ran: they must not wait for beat.
        batch_lease.batch_schedule_now()
    return stats


def _run_batch(now: datetime, lease: batch_lease.BatchLease) -> dict[str, int]:
    """One batch: plan the waiting orders with the standing offers, move the offers the
    plan moved, commit the new assignments chunk by chunk, record the orders left over, then
    dispatch one by one the orders the batch cannot take."""
    started = time.perf_counter()
    waiting = _waiting_orders()
    stats = {"orders": len(waiting), "assigned": 0, "unassigned": 0, "batches": 0}
    if not waiting:
        return stats
    singles, by_id, requests = _split_batchable(waiting)
    offered, offers = replan.standing_offers()
    policy = dispatch_policy()
    states = selectors.crew_states_for_dispatch()
    read = time.perf_counter()
    result = dispatching.plan_dispatch(requests, states, now=now, policy=policy, offers=offers)
    planned = time.perf_counter()
    stats.update(
        batches=result.batches,
        offers=len(offers),
        kept=result.kept,
        read_ms=round((read - started) * 1000),
        plan_ms=round((planned - read) * 1000),
    )
    names = _crew_names({a.crew_id for a in (*result.assignments, *result.replanned)})
    if lease.lost:
        stats["lease_lost"] = 1
        return stats
    # Moves first: they free the places some new assignments were planned into.
    moves = []
    for a in result.replanned:
        candidates, _filtered, data = _explained(a, names, result.storm)
        moves.append(replan.OfferMove(offered[a.order_id], a.crew_id, candidates, data))
    stats["replanned"] = replan.work_orders_offers_move(moves=moves, now=now)
    picks = [
        Pick(by_id[a.order_id], a.crew_id, *_explained(a, names, result.storm))
        for a in result.assignments
    ]
    stats["assigned"] = _commit_picks(picks, lease, step=policy.batch_size, stats=stats)
    _record_batch_unassigned(result.unassigned, by_id)
    stats["unassigned"] = len(result.unassigned)
    stats["assigned"] += _dispatch_singles(singles, now=now)
    stats["write_ms"] = round((time.perf_counter() - planned) * 1000)
    logger.info("dispatch batch: %s", stats)
    return stats


def _waiting_orders() -> list[WorkOrder]:
    waiting = (
        WorkOrder.objects.filter(status__in=WorkOrder.NEEDS_DISPATCH)
        .select_related("grid", "skill_needed")
        .order_by("pk")[:5000]
    )
    return [o for o in waiting if not o.is_urgent]


def _split_batchable(
    waiting: Sequence[WorkOrder],
) -> tuple[list[WorkOrder], dict[int, WorkOrder], list[dispatching.OrderRequest]]:
    """(orders to dispatch one by one, batchable orders by id, their requests). Orders with
    refusals go one by one (the batch solver knows no per-order exclusions), and so do
    orders without a location of their own."""
    refused = set(
        DispatchRefusal.objects.filter(order_id__in=[o.pk for o in waiting]).values_list(
            "order_id", flat=True
        )
    )
    singles = [o for o in waiting if o.pk in refused]
    by_id: dict[int, WorkOrder] = {}
    requests = []
    for order in waiting:
        if order.pk in refused:
            continue
        request = selectors.work_order_dispatch_request(order)
        if request is None:
            singles.append(order)
            continue
        by_id[order.pk] = order
        requests.append(request)
    return singles, by_id, requests


def _explained(
    a: dispatching.Assignment, names: dict[int, tuple[str, str]], storm: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(candidates, filtered out, data) recorded with a batch assignment or move."""
    candidates = [c.as_dict() for c in a.alternatives] or [a.candidate.as_dict()]
    if not any(c["crew_id"] == a.crew_id for c in candidates):
        candidates.insert(0, a.candidate.as_dict())
    for c in candidates:
        c["crew_code"], c["crew_name"] = names.get(c["crew_id"], ("", ""))
    return candidates, [], {"storm": storm, "module_mode": a.mode, "chosen": a.candidate.as_dict()}


def _commit_picks(
    picks: Sequence[Pick], lease: batch_lease.BatchLease, *, step: int, stats: dict[str, int]
) -> int:
    """Assign ``step`` picks per transaction, so the first are committed early; stop if the
    lease is lost (another batch now plans what is left). Returns how many were assigned."""
    assigned = 0
    for start in range(0, len(picks), step):
        if lease.lost:
            stats["lease_lost"] = 1
            break
        with transaction.atomic():
            applied = _apply_picks(picks[start : start + step], mode=Mode.BATCH)
        assigned += len(applied.done)
        if applied.crew_unavailable:
            # A crew filled up meanwhile: those orders wait, and the next batch takes them.
            batch_lease.batch_owe()
    return assigned


def _dispatch_singles(singles: Sequence[WorkOrder], *, now: datetime) -> int:
    """Dispatch one by one; crew states are reloaded because the batch just used capacity."""
    assigned = 0
    if singles:
        fresh = selectors.crew_states_for_dispatch()
        for order in singles:
            if _dispatch_one(order, now=now, states=fresh) is not None:
                assigned += 1
                fresh = selectors.crew_states_for_dispatch()
    return assigned


def _record_batch_unassigned(
    unassigned: Sequence[dispatching.Unassigned], by_id: dict[int, WorkOrder]
) -> None:
    if not unassigned:
        return
    now = timezone.now()
    ids = [u.order_id for u in unassigned]
    WorkOrder.objects.filter(pk__in=ids, status__in=WorkOrder.NEEDS_DISPATCH).update(
        dispatch_requested_at=now
    )
    already = set(
        DispatchDecision.objects.filter(
            order_id__in=ids, crew__isnull=True, at__gte=F("order__waiting_since")
        ).values_list("order_id", flat=True)
    )
    DispatchDecision.objects.bulk_create(
        [
            DispatchDecision(
                order=by_id[u.order_id],
                crew=None,
                mode=Mode.BATCH,
                outcome=u.reason,
                filtered_out=[],
                data={"filtered_counts": dict(u.filtered_counts)},
                at=now,
            )
            for u in unassigned
            if u.order_id not in already
        ]
    )
