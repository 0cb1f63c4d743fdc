"""Dispatch through the real Redis broker and a real Celery worker (thread pool).

Transactional tests flush the tables afterwards; the root conftest re-loads the rows of the
data migrations (taxonomy, role groups, policies) before each transactional test.
"""

import time
from datetime import timedelta
from unittest import mock

import pytest
from celery.signals import task_postrun
from django.utils import timezone

from workorders import services
from workorders.models import DispatchDecision, WorkOrder, WorkOrderEvent
from workorders.services import dispatch as dispatch_module
from workorders.tasks import work_order_dispatch_task, work_orders_requeue_stuck_task
from workorders.tests.factories import make_crew, make_order, reference_data

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

S = WorkOrder.Status


@pytest.fixture
def finished():
    """Names of the tasks the worker finished (these tasks ignore their results, so
    ``AsyncResult.get()`` cannot wait for them)."""
    done: list[str] = []

    def record(sender=None, **kwargs):
        done.append(sender.name)

    task_postrun.connect(record, weak=False)
    yield done
    task_postrun.disconnect(record)


def _ran(finished, name, times):
    return lambda: finished.count(name) >= times


def _wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _status(order):
    return WorkOrder.objects.filter(pk=order.pk).values_list("status", "crew_id").get()


def _one_assignment(order, crew):
    assert _status(order) == (S.DISPATCHED, crew.pk)
    assert DispatchDecision.objects.filter(order=order, crew__isnull=False).count() == 1
    assert order.events.filter(to_status=S.DISPATCHED).count() == 1


def test_order_committed_is_assigned_by_the_worker_and_explained(celery_worker):
    # Given reference data and two crews
    reference_data()
    near = make_crew(dlat=0.01)
    make_crew(dlat=0.04)
    # When an order is created (the service commits; the task goes through Redis)
    order = make_order(dispatch=True)
    # Then the worker assigns the nearest crew and records why
    _wait_for(lambda: _status(order)[0] == S.DISPATCHED, what="dispatch")
    _one_assignment(order, near)
    decision = DispatchDecision.objects.get(order=order)
    assert [c["crew_id"] for c in decision.candidates][0] == near.pk
    assert len(decision.candidates) == 2


def test_duplicate_messages_assign_once(celery_worker, finished):
    reference_data()
    crew = make_crew()
    order = make_order()
    # The same message delivered three times (Redis redelivers unacknowledged messages)
    for _ in range(3):
        work_order_dispatch_task.delay(order.pk, order.version)
    _wait_for(_ran(finished, "workorders.dispatch", 3), what="three deliveries")
    _one_assignment(order, crew)


def test_sweeper_recovers_an_order_whose_message_was_lost(celery_worker, settings, finished):
    settings.WORKORDERS_DISPATCH_STALE_SECONDS = 1
    reference_data()
    crew = make_crew()
    # Given an order whose dispatch message is lost (never sent)
    with mock.patch("workorders.services.common.enqueue_on_commit"):
        order = make_order(dispatch=True)
    time.sleep(1.2)
    assert _status(order) == (S.CREATED, None)
    # When the beat sweeper runs on the worker
    work_orders_requeue_stuck_task.delay()
    # Then the order is dispatched, exactly once
    _wait_for(lambda: _status(order)[0] == S.DISPATCHED, what="recovery")
    _one_assignment(order, crew)
    # A second sweep finds nothing to do
    time.sleep(1.2)
    work_orders_requeue_stuck_task.delay()
    _wait_for(_ran(finished, "workorders.requeue_stuck", 2), what="the second sweep")
    assert finished.count("workorders.dispatch") == 1
    _one_assignment(order, crew)


def test_worker_dying_mid_dispatch_leaves_nothing_half_done_and_the_sweeper_recovers(
    celery_worker, settings, finished
):
    settings.WORKORDERS_DISPATCH_STALE_SECONDS = 1
    reference_data()
    crew = make_crew()
    real = dispatch_module.common.crew_refresh_status
    calls = {"n": 0}

    def dies_once(*args, **kwargs):
        # The worker is killed after the order row was updated but before the commit.
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    with mock.patch.object(dispatch_module.common, "crew_refresh_status", side_effect=dies_once):
        order = make_order(dispatch=True)
        _wait_for(lambda: calls["n"] >= 1, what="the first attempt")
        time.sleep(0.3)
        # The half-done assignment was rolled back with its transaction
        assert _status(order) == (S.CREATED, None)
        assert not DispatchDecision.objects.filter(order=order).exists()
        assert not order.events.filter(kind=WorkOrderEvent.Kind.STATUS_CHANGED).exists()
        # The sweeper re-queues it, and the same message delivered again changes nothing
        WorkOrder.objects.filter(pk=order.pk).update(
            dispatch_requested_at=timezone.now() - timedelta(seconds=5)
        )
        work_orders_requeue_stuck_task.delay()
        _wait_for(lambda: _status(order)[0] == S.DISPATCHED, what="recovery")
        # The first message is redelivered (as Redis does for an unacknowledged one)
        work_order_dispatch_task.delay(order.pk, 1)
        _wait_for(_ran(finished, "workorders.dispatch", 3), what="the redelivery")
    _one_assignment(order, crew)


def test_accept_timeout_and_pool_expiry_sweepers_on_the_worker(celery_worker):
    from workorders.tasks import (
        work_orders_offers_expire_due_task,
        work_orders_pool_expire_due_task,
    )

    reference_data()
    first = make_crew(dlat=0.01)
    second = make_crew(dlat=0.02)
    order = make_order()
    services.work_order_dispatch_auto(order_id=order.pk)
    WorkOrder.objects.filter(pk=order.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    work_orders_offers_expire_due_task.delay()
    _wait_for(lambda: _status(order) == (S.DISPATCHED, second.pk), what="re-dispatch")
    # A published order nobody claims goes back to dispatch
    pooled = make_order(dlat=0.002)
    services.work_order_publish(order=pooled, actor=None)
    WorkOrder.objects.filter(pk=pooled.pk).update(
        pool_expires_at=timezone.now() - timedelta(seconds=1)
    )
    work_orders_pool_expire_due_task.delay()
    _wait_for(lambda: _status(pooled)[0] == S.DISPATCHED, what="pool fallback")
    assert _status(pooled)[1] in (first.pk, second.pk)
