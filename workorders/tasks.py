"""Celery tasks of the work-orders app: thin wrappers around one service each.

Dispatch tasks run on the latency queue ``dispatch``; the rest on ``default``. Arguments are
ids and JSON primitives. Every task is safe to run twice: the services compare-and-set the
order (status and ``version``), so a duplicate or stale message finds nothing to do. The
sweepers run from beat (``dispatch_center/celery.py``); each selects due rows and enqueues one
task per row.
"""

from __future__ import annotations

import logging

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS as CORE_TASK_OPTIONS
from dispatch_center.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

# Nobody reads these tasks' results: storing them (and, with the Redis backend, the sender
# subscribing to each result) costs a round trip per message for nothing.
TASK_OPTIONS = {**CORE_TASK_OPTIONS, "ignore_result": True}
DISPATCH = {**TASK_OPTIONS, "queue": "dispatch"}


def _stale_is_fine(name: str, order_id: int, exc: Exception) -> None:
    # Somebody (a dispatcher, a crew, another worker) changed the order first: the message
    # is obsolete, which is normal and not worth a retry.
    logger.info("%s: order %s changed meanwhile (%s)", name, order_id, exc.__class__.__name__)


# --- dispatch ---------------------------------------------------------------------------------


@shared_task(name="workorders.dispatch", **DISPATCH)
def work_order_dispatch_task(order_id: int, version: int | None = None) -> None:
    """Find a crew for order ``order_id`` if it still waits at ``version``."""
    from dispatch_center.core.exceptions import ConcurrentUpdate, TransitionNotAllowed
    from workorders.services import work_order_dispatch_auto

    try:
        work_order_dispatch_auto(order_id=order_id, version=version)
    except (ConcurrentUpdate, TransitionNotAllowed) as exc:
        _stale_is_fine("dispatch", order_id, exc)


@shared_task(name="workorders.dispatch_batch", **DISPATCH)
def work_orders_dispatch_batch_task(only_in_storm: bool = False) -> None:
    """Storm mode: match every waiting non-urgent order at once. The debounced run (from
    the dispatch task) always runs, since orders were deferred to it; the beat run
    (``only_in_storm``) while more orders wait than the storm threshold, or while a batch is
    owed (orders were deferred to a batch that has not finished: its worker may have died)."""
    from workorders.selectors import work_orders_waiting_count
    from workorders.services import batch_lease, work_orders_dispatch_batch
    from workorders.services.common import conf

    waiting = work_orders_waiting_count()
    owed = batch_lease.batch_owed()
    if not waiting:
        batch_lease.batch_settle(owed)
        return
    if not only_in_storm or owed is not None or waiting > conf().storm_threshold:
        work_orders_dispatch_batch()


@shared_task(name="workorders.noop", **{**DISPATCH, "ignore_result": False})
def work_orders_noop_task(sent_at: float | None = None) -> list[float | None]:
    """Does nothing: the benchmark's yardstick for a trip through the dispatch queue.
    Returns the sender's timestamp and the worker's clock when it ran."""
    import time

    return [sent_at, time.time()]


# --- raising orders from outage events --------------------------------------------------------


@shared_task(name="workorders.raise_for_outage", **DISPATCH)
def work_order_raise_for_outage_task(outage_id: int) -> None:
    """Raise (once) the repair order of outage ``outage_id``."""
    from workorders.services import work_order_raise_for_outage

    work_order_raise_for_outage(outage_id=outage_id)


@shared_task(name="workorders.raise_for_report", **DISPATCH)
def work_order_raise_for_report_task(report_id: int, kind: str) -> None:
    """Raise (once) a single-premise or danger order for trouble report ``report_id``."""
    from workorders.services import work_order_raise_for_report

    work_order_raise_for_report(report_id=report_id, kind=kind)


@shared_task(name="workorders.outage_cancelled", **TASK_OPTIONS)
def work_orders_outage_cancelled_task(outage_id: int) -> None:
    """Cancel the unfinished repair orders of cancelled outage ``outage_id``."""
    from workorders.services import work_orders_outage_cancelled

    work_orders_outage_cancelled(outage_id=outage_id)


@shared_task(name="workorders.outage_restored", **TASK_OPTIONS)
def work_orders_outage_restored_task(outage_id: int) -> None:
    """Note the restoration of outage ``outage_id`` on its open repair orders."""
    from workorders.services import work_orders_outage_restored

    work_orders_outage_restored(outage_id=outage_id)


# --- sweepers (beat) and their per-row tasks -----------------------------------------------------


@shared_task(name="workorders.requeue_stuck", **TASK_OPTIONS)
def work_orders_requeue_stuck_task() -> None:
    """Sweeper: re-queue dispatch for orders waiting long after their last dispatch request
    (a lost message must never strand an order)."""
    from workorders.selectors import work_order_ids_stuck
    from workorders.services import work_order_requeue
    from workorders.services.common import conf

    for order_id in work_order_ids_stuck(stale=conf().dispatch_stale):
        work_order_requeue(order_id=order_id)


@shared_task(name="workorders.offers_expire_due", **TASK_OPTIONS)
def work_orders_offers_expire_due_task() -> None:
    """Sweeper: enqueue ``work_order_offer_expire_task`` for each offer not accepted in time."""
    from workorders.selectors import work_order_ids_offer_expired

    for order_id in work_order_ids_offer_expired():
        enqueue_on_commit(work_order_offer_expire_task, order_id, queue="dispatch")


@shared_task(name="workorders.offer_expire", **DISPATCH)
def work_order_offer_expire_task(order_id: int) -> None:
    """Send order ``order_id`` back to dispatch if its crew still has not accepted."""
    from dispatch_center.core.exceptions import ConcurrentUpdate, TransitionNotAllowed
    from workorders.services import work_order_offer_expire

    try:
        work_order_offer_expire(order_id=order_id)
    except (ConcurrentUpdate, TransitionNotAllowed) as exc:
        _stale_is_fine("offer_expire", order_id, exc)


@shared_task(name="workorders.pool_expire_due", **TASK_OPTIONS)
def work_orders_pool_expire_due_task() -> None:
    """Sweeper: enqueue ``work_order_pool_expire_task`` for each unclaimed published order
    past its time to live."""
    from workorders.selectors import work_order_ids_pool_expired

    for order_id in work_order_ids_pool_expired():
        enqueue_on_commit(work_order_pool_expire_task, order_id, queue="dispatch")


@shared_task(name="workorders.pool_expire", **DISPATCH)
def work_order_pool_expire_task(order_id: int) -> None:
    """Send published order ``order_id`` back to dispatch if still unclaimed and expired."""
    from dispatch_center.core.exceptions import ConcurrentUpdate, TransitionNotAllowed
    from workorders.services import work_order_pool_expire

    try:
        work_order_pool_expire(order_id=order_id)
    except (ConcurrentUpdate, TransitionNotAllowed) as exc:
        _stale_is_fine("pool_expire", order_id, exc)


@shared_task(name="workorders.sla_watch", **TASK_OPTIONS)
def work_orders_sla_watch_task() -> None:
    """Sweeper (every minute): enqueue ``work_order_sla_check_task`` for each order with an
    SLA warning or breach due."""
    from workorders.selectors import work_order_ids_sla_due

    for order_id in work_order_ids_sla_due():
        enqueue_on_commit(work_order_sla_check_task, order_id)


@shared_task(name="workorders.sla_check", **TASK_OPTIONS)
def work_order_sla_check_task(order_id: int) -> None:
    """Set the SLA marks due on order ``order_id`` (idempotent)."""
    from workorders.services import work_order_sla_check

    work_order_sla_check(order_id=order_id)
