"""The grab pool: publish, claim, the one-winner race, limits, expiry, skip counts, bonus."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch_center.core.exceptions import Conflict, TransitionNotAllowed
from outages.models import Priority
from workorders import selectors, services
from workorders.models import CrewPoolStats, DispatchDecision, PoolPolicy, WorkOrder
from workorders.tasks import work_orders_pool_expire_due_task
from workorders.tests.factories import make_crew, make_grid, make_order, reference_data

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


def test_publish_offers_the_order_to_crews_within_the_radius():
    near = make_crew(dlat=0.01)
    far = make_crew(dlat=0.2)  # ~22 km: outside the 5 km urban radius
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    order.refresh_from_db()
    assert order.status == S.PUBLISHED
    assert order.pool_audience == [near.pk]
    assert order.pool_expires_at == order.published_at + timedelta(seconds=300)
    assert [e.order.pk for e in selectors.pool_orders_for_crew(crew=near)] == [order.pk]
    assert selectors.pool_orders_for_crew(crew=far) == []


@pytest.mark.parametrize("kind", [WorkOrder.Kind.DANGER, WorkOrder.Kind.PREMISE_REPAIR])
def test_urgent_and_danger_orders_are_never_pooled(kind):
    make_crew()
    order = make_order(kind=kind, priority=Priority.URGENT)
    with pytest.raises(Conflict) as err:
        services.work_order_publish(order=order, actor=None)
    assert err.value.code == "urgent_not_poolable"


def test_policy_per_grid_and_kind_can_disable_the_pool():
    grid = make_grid()
    make_crew(grid=grid)
    PoolPolicy.objects.create(grid=grid, kind=WorkOrder.Kind.INSPECTION, enabled=False)
    inspection = make_order(kind=WorkOrder.Kind.INSPECTION, grid=grid)
    with pytest.raises(Conflict):
        services.work_order_publish(order=inspection, actor=None)
    # The same grid's other kinds fall back to the default policy
    services.work_order_publish(order=make_order(grid=grid), actor=None)


def test_claim_wins_once_and_the_loser_gets_already_taken():
    first, second = make_crew(dlat=0.01), make_crew(dlat=0.02)
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    claimed = services.work_order_claim(order_id=order.pk, crew=first, actor=None)
    assert (claimed.status, claimed.crew_id) == (S.CLAIMED, first.pk)
    with pytest.raises(Conflict) as err:
        services.work_order_claim(order_id=order.pk, crew=second, actor=None)
    assert err.value.code == "already_taken"
    assert CrewPoolStats.objects.get(crew=first).claims == 1
    assert CrewPoolStats.objects.get(crew=second).lost_races == 1
    decision = DispatchDecision.objects.get(order=order)
    assert (decision.mode, decision.crew_id) == (DispatchDecision.Mode.POOL, first.pk)
    # The claimed order is accepted like a dispatched one
    services.work_order_accept(order=claimed, crew=first, actor=None)
    assert WorkOrder.objects.get(pk=order.pk).status == S.ACCEPTED


def test_a_crew_holds_at_most_n_claimed_orders():
    crew = make_crew(capacity=5)
    PoolPolicy.objects.filter(grid=None, kind="").update(max_claimed_per_crew=1)
    a, b = make_order(), make_order(dlat=0.001)
    for order in (a, b):
        services.work_order_publish(order=order, actor=None)
    services.work_order_claim(order_id=a.pk, crew=crew, actor=None)
    with pytest.raises(Conflict) as err:
        services.work_order_claim(order_id=b.pk, crew=crew, actor=None)
    assert err.value.code == "claim_limit"


def test_claim_checks_range_and_duty():
    near = make_crew()
    far = make_crew(dlat=0.3)
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    with pytest.raises(Conflict) as err:
        services.work_order_claim(order_id=order.pk, crew=far, actor=None)
    assert err.value.code == "out_of_range"
    services.crew_set_on_duty(crew=near, on_duty=False, actor=None)
    with pytest.raises(Conflict) as err:
        services.work_order_claim(order_id=order.pk, crew=near, actor=None)
    assert err.value.code == "crew_off_duty"


def test_unclaimed_order_falls_back_to_dispatch_and_counts_skips(
    django_capture_on_commit_callbacks,
):
    crew = make_crew()
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    # Not yet expired: nothing happens
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_pool_expire_due_task.apply()
    assert WorkOrder.objects.get(pk=order.pk).status == S.PUBLISHED
    WorkOrder.objects.filter(pk=order.pk).update(
        pool_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_pool_expire_due_task.apply()
    order.refresh_from_db()
    # Back to dispatch, and dispatched directly (not published again)
    assert (order.status, order.crew_id) == (S.DISPATCHED, crew.pk)
    assert CrewPoolStats.objects.get(crew=crew).skips == 1
    with pytest.raises(TransitionNotAllowed):
        services.work_order_publish(order=order, actor=None)


def test_auto_publish_policy_sends_new_orders_to_the_pool(django_capture_on_commit_callbacks):
    make_crew()
    PoolPolicy.objects.filter(grid=None, kind="").update(auto_publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(dispatch=True)
        danger = make_order(kind=WorkOrder.Kind.DANGER, dispatch=True)
    assert WorkOrder.objects.get(pk=order.pk).status == S.PUBLISHED
    assert WorkOrder.objects.get(pk=danger.pk).status == S.DISPATCHED


def test_waiting_orders_gain_bonus_points_shown_in_the_pool():
    crew = make_crew()
    fresh, stale = make_order(), make_order(dlat=0.001)
    WorkOrder.objects.filter(pk=stale.pk).update(
        waiting_since=timezone.now() - timedelta(minutes=16)
    )
    stale.refresh_from_db()
    for order in (fresh, stale):
        services.work_order_publish(order=order, actor=None)
    entries = selectors.pool_orders_for_crew(crew=crew)
    # The stale order comes first, with 3 points (one per 5 minutes)
    assert [(e.order.pk, e.bonus_points) for e in entries] == [(stale.pk, 3), (fresh.pk, 0)]
    services.work_order_claim(order_id=stale.pk, crew=crew, actor=None)
    assert WorkOrder.objects.get(pk=stale.pk).claim_bonus_points == 3
    assert CrewPoolStats.objects.get(crew=crew).bonus_points == 3


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_claims_have_exactly_one_winner():
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks of a real server")
    # Given 50 crews around one published order
    reference_data()
    crews = [make_crew(dlat=0.0005 * (i % 10), dlng=0.0005 * (i // 10)) for i in range(50)]
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    barrier = threading.Barrier(50)
    results: list[str] = []
    lock = threading.Lock()

    def claim(crew):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            services.work_order_claim(order_id=order.pk, crew=crew, actor=None)
            outcome = "won"
        except Conflict as exc:
            outcome = exc.code
        finally:
            thread_connection.close()
        with lock:
            results.append(outcome)

    # When they all claim at the same moment, each on its own connection
    threads = [threading.Thread(target=claim, args=(c,)) for c in crews]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Then exactly one wins and 49 are told it is already taken
    assert sorted(results) == ["already_taken"] * 49 + ["won"]
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.status == S.CLAIMED
    winner = next(c for c in crews if c.pk == fresh.crew_id)
    assert CrewPoolStats.objects.get(crew=winner).claims == 1
    assert sum(CrewPoolStats.objects.values_list("lost_races", flat=True)) == 49
    assert fresh.events.filter(to_status=S.CLAIMED).count() == 1
    assert DispatchDecision.objects.filter(order=fresh).count() == 1
