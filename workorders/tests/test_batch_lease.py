"""The storm batch's lease and debt (``workorders.services.batch_lease``) on the real Redis
cache: a lease that expires quickly unless renewed, never freed by a former holder; skipped
batches that ask once instead of looping; the debt that makes beat take up a dead batch."""

from __future__ import annotations

import time

import pytest

from workorders import services
from workorders.models import WorkOrder
from workorders.services import batch_lease
from workorders.services.batch_lease import BatchLease
from workorders.tasks import work_orders_dispatch_batch_task
from workorders.tests.factories import make_crew, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


@pytest.fixture(autouse=True)
def _clean_keys():
    from django.core.cache import cache

    from workorders.services import common

    keys = (batch_lease.LEASE_KEY, batch_lease.OWED_KEY, common.BATCH_SCHEDULED_KEY)
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def _until(predicate, timeout=5.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    pytest.fail("timed out")


def test_a_lease_nobody_renews_expires_within_its_seconds():
    # Given a lease taken by a holder that then dies (never renews, never releases)
    assert BatchLease.acquire(seconds=0.4) is not None
    # Then nobody else can take it meanwhile ...
    assert BatchLease.acquire(seconds=0.4) is None
    # ... and it is free again once its seconds have passed
    waited = _until(lambda: BatchLease.acquire(seconds=5) is not None)
    assert waited < 1.5


def test_a_running_batch_keeps_its_lease_past_the_expiry():
    lease = BatchLease.acquire(seconds=0.3)
    assert lease is not None
    with lease.kept_alive():
        start = time.monotonic()
        # Three expiries later the lease is still held, by the renewing thread
        while time.monotonic() - start < 1.0:
            assert BatchLease.acquire(seconds=0.3) is None
            time.sleep(0.05)
    assert not lease.lost
    lease.release()
    assert BatchLease.acquire(seconds=1) is not None


def _holder() -> str | None:
    """The token of the lease now held (None when free)."""
    client = batch_lease._redis()
    value = client.get(batch_lease._key(batch_lease.LEASE_KEY))
    return value.decode() if isinstance(value, bytes) else value


def test_a_former_holder_neither_renews_nor_frees_its_successors_lease():
    # Given a holder whose lease lapsed (it was paused past the expiry) and a successor that
    # took the lease: both are states waited for, whatever the load of the machine
    old = BatchLease.acquire(seconds=0.2)
    assert old is not None
    successor: list[BatchLease] = []
    _until(lambda: bool(successor.append(BatchLease.acquire(seconds=60)) or successor[-1]))
    new = successor[-1]
    assert _holder() == new.token != old.token
    # When the former holder tries to renew, then releases
    assert old.renew() is False
    assert old.lost
    old.release()
    # Then the successor still holds its lease, and frees it itself
    assert _holder() == new.token
    assert batch_lease.lease_remaining_seconds() > 0
    new.release()
    assert _holder() is None
    assert batch_lease.lease_remaining_seconds() == 0


def test_a_skipped_batch_asks_once_at_the_lease_expiry_and_does_not_loop(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        work_orders_dispatch_batch_task, "apply_async", lambda **kw: sent.append(kw)
    )
    make_crew()
    make_order()
    # Given a batch holding the lease
    holder = BatchLease.acquire(seconds=10)
    assert holder is not None
    # When other batch runs come in meanwhile (debounced runs, beat)
    with django_capture_on_commit_callbacks(execute=True):
        stats = [services.work_orders_dispatch_batch() for _ in range(5)]
    # Then each is skipped, one batch is asked for when the lease would expire, and the
    # debt is stamped so the running batch re-runs when it ends
    assert stats == [{"skipped": 1}] * 5
    assert len(sent) == 1
    assert 9 < sent[0]["countdown"] <= 10.5
    assert batch_lease.batch_owed() is not None
    holder.release()


def test_a_batch_that_ends_after_orders_were_deferred_asks_for_the_next_at_once(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        work_orders_dispatch_batch_task, "apply_async", lambda **kw: sent.append(kw)
    )
    make_crew()
    order = make_order()
    real_run = services.batch._run_batch

    def run_while_an_order_is_deferred(now, lease):
        batch_lease.batch_owe()  # an order deferred to the batch while it runs
        return real_run(now, lease)

    monkeypatch.setattr(services.batch, "_run_batch", run_while_an_order_is_deferred)
    with django_capture_on_commit_callbacks(execute=True):
        services.work_orders_dispatch_batch()
    order.refresh_from_db()
    assert order.status == S.DISPATCHED
    assert len(sent) == 1
    assert batch_lease.lease_remaining_seconds() == 0  # released


def test_a_batch_that_ends_with_nothing_deferred_settles_the_debt(
    django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(
        work_orders_dispatch_batch_task, "apply_async", lambda **kw: sent.append(kw)
    )
    make_crew()
    make_order()
    batch_lease.batch_owe()
    with django_capture_on_commit_callbacks(execute=True):
        services.work_orders_dispatch_batch()
    assert batch_lease.batch_owed() is None
    assert sent == []


def test_beat_runs_an_owed_batch_below_the_storm_threshold(settings):
    # Given a few orders deferred to a batch whose worker died (the debt stays, lease gone)
    settings.WORKORDERS_STORM_THRESHOLD = 30
    make_crew()
    order = make_order()
    # When beat's run comes (only in storm) and no debt is marked, it leaves them
    work_orders_dispatch_batch_task.apply(kwargs={"only_in_storm": True})
    order.refresh_from_db()
    assert order.status == S.CREATED
    # With the debt marked, it runs the batch
    batch_lease.batch_owe()
    work_orders_dispatch_batch_task.apply(kwargs={"only_in_storm": True})
    order.refresh_from_db()
    assert order.status == S.DISPATCHED
    assert batch_lease.batch_owed() is None


def test_a_batch_that_lost_its_lease_commits_nothing_more(monkeypatch):
    make_crew(capacity=3)
    orders = [make_order(dlat=0.001 * i) for i in range(3)]
    real_run = services.batch._run_batch

    def run_after_losing(now, lease):
        lease.lost = True
        return real_run(now, lease)

    monkeypatch.setattr(services.batch, "_run_batch", run_after_losing)
    stats = services.work_orders_dispatch_batch()
    assert stats["lease_lost"] == 1
    assert WorkOrder.objects.filter(pk__in=[o.pk for o in orders], status=S.CREATED).count() == 3
