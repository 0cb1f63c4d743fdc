"""Dispatch wired to the decision module: direct, idempotent, capacity, re-dispatch, timeouts,
off duty, pre-emption, storm batches, the sweeper, manual assignment. Tasks run eagerly
here; ``test_worker.py`` runs them on a real worker."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import Conflict
from grids.models import Crew
from outages.models import Priority
from workorders import services
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent
from workorders.tasks import (
    work_order_dispatch_task,
    work_orders_offers_expire_due_task,
    work_orders_requeue_stuck_task,
)
from workorders.tests.factories import force_status, make_crew, make_grid, make_order, skill

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


def _dispatched(order):
    order.refresh_from_db()
    return order.status, order.crew_id


def test_new_order_is_dispatched_to_the_best_crew_on_commit(django_capture_on_commit_callbacks):
    # Given a near crew, a far crew and a near crew that is off duty
    near = make_crew(dlat=0.01)
    far = make_crew(dlat=0.05)
    off = make_crew(dlat=0.001, on_duty=False)
    # When an order is raised and its transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order = make_order(dispatch=True)
    # Then the task's arguments survive a JSON round trip, and the near crew got it
    assert callbacks
    order.refresh_from_db()
    assert order.status == S.DISPATCHED
    assert order.crew_id == near.pk
    assert order.offer_expires_at > timezone.now()
    decision = DispatchDecision.objects.get(order=order)
    assert decision.mode == DispatchDecision.Mode.DIRECT
    assert [c["crew_id"] for c in decision.candidates] == [near.pk, far.pk]
    assert set(decision.candidates[0]["components"]) == {"travel", "workload", "sla", "territory"}
    assert decision.filtered_out[0]["crew_id"] == off.pk
    assert decision.filtered_out[0]["reasons"] == ["off_duty"]
    event = order.events.get(kind=WorkOrderEvent.Kind.STATUS_CHANGED)
    assert event.data["decision_id"] == decision.pk
    assert Crew.objects.get(pk=near.pk).status == Crew.Status.ASSIGNED


def test_dispatch_task_arguments_survive_json(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(
        work_order_dispatch_task, "apply_async", lambda args=(), **kw: sent.append((args, kw))
    )
    make_crew()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(dispatch=True)
    assert len(sent) == 1
    args, options = sent[0]
    assert json.loads(json.dumps(args)) == [order.pk, order.version]
    assert options["queue"] == "dispatch"


def test_a_second_run_of_the_same_message_changes_nothing():
    crew = make_crew()
    order = make_order()
    work_order_dispatch_task.apply(args=(order.pk, order.version))
    work_order_dispatch_task.apply(args=(order.pk, order.version))
    assert _dispatched(order) == (S.DISPATCHED, crew.pk)
    assert DispatchDecision.objects.filter(order=order).count() == 1
    assert order.events.filter(to_status=S.DISPATCHED).count() == 1


def test_a_stale_message_is_ignored():
    make_crew()
    order = make_order()
    services.work_order_publish(order=order, actor=None)
    # The message of the order's first version arrives late
    work_order_dispatch_task.apply(args=(order.pk, 1))
    assert _dispatched(order) == (S.PUBLISHED, None)
    assert not DispatchDecision.objects.filter(order=order).exists()


def test_capacity_is_respected_and_counted_on_the_locked_crew():
    crew = make_crew(capacity=1)
    first, second = make_order(), make_order()
    services.work_order_dispatch_auto(order_id=first.pk)
    services.work_order_dispatch_auto(order_id=second.pk)
    assert _dispatched(first) == (S.DISPATCHED, crew.pk)
    assert _dispatched(second) == (S.CREATED, None)
    decision = DispatchDecision.objects.get(order=second)
    assert decision.crew is None
    assert decision.outcome == "no_eligible_crew"
    assert decision.filtered_out[0]["reasons"] == ["no_capacity"]
    # A re-run with the same outcome updates that decision instead of piling up rows
    services.work_order_dispatch_auto(order_id=second.pk)
    assert DispatchDecision.objects.filter(order=second).count() == 1
    assert DispatchDecision.objects.get(order=second).data["attempts"] == 2


def test_skill_and_territory_shape_the_choice():
    grid = make_grid()
    own = make_crew(dlat=0.02, grid=grid, skills=("lv",))
    closer_no_skill = make_crew(dlat=0.001, skills=("cable",))
    order = make_order(grid=grid, skill_needed=skill("lv"))
    services.work_order_dispatch_auto(order_id=order.pk)
    assert _dispatched(order) == (S.DISPATCHED, own.pk)
    reasons = {f["crew_id"]: f["reasons"] for f in DispatchDecision.objects.get().filtered_out}
    assert reasons[closer_no_skill.pk] == ["missing_skill"]


def test_rejection_redispatches_to_the_next_crew(django_capture_on_commit_callbacks):
    first = make_crew(dlat=0.01)
    second = make_crew(dlat=0.03)
    order = make_order()
    services.work_order_dispatch_auto(order_id=order.pk)
    order.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.work_order_reject(order=order, crew=first, actor=None)
    assert _dispatched(order) == (S.DISPATCHED, second.pk)
    decision = DispatchDecision.objects.filter(order=order).order_by("-pk").first()
    assert [c["crew_id"] for c in decision.candidates] == [second.pk]
    assert decision.filtered_out[0]["reasons"] == ["rejected"]


def test_accept_timeout_is_swept_and_the_next_crew_is_offered(
    django_capture_on_commit_callbacks, settings
):
    settings.WORKORDERS_ACCEPT_TIMEOUT_SECONDS = 60
    slow = make_crew(dlat=0.01)
    other = make_crew(dlat=0.02)
    order = make_order()
    services.work_order_dispatch_auto(order_id=order.pk)
    WorkOrder.objects.filter(pk=order.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_offers_expire_due_task.apply()
    assert _dispatched(order) == (S.DISPATCHED, other.pk)
    assert DispatchRefusal.objects.filter(order=order, crew=slow, reason="timed_out").exists()
    # Sweeping again finds nothing due
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_offers_expire_due_task.apply()
    assert _dispatched(order) == (S.DISPATCHED, other.pk)


def test_going_off_duty_requeues_unaccepted_orders_only(django_capture_on_commit_callbacks):
    crew = make_crew(dlat=0.01, capacity=3)
    backup = make_crew(dlat=0.2)  # far: the near crew takes both orders
    offered = make_order()
    accepted = make_order()
    services.work_order_dispatch_auto(order_id=offered.pk)
    services.work_order_dispatch_auto(order_id=accepted.pk)
    accepted.refresh_from_db()
    services.work_order_accept(order=accepted, crew=crew, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.crew_set_on_duty(crew=crew, on_duty=False, actor=None)
    assert _dispatched(offered) == (S.DISPATCHED, backup.pk)
    assert _dispatched(accepted) == (S.ACCEPTED, crew.pk)
    assert Crew.objects.get(pk=crew.pk).status == Crew.Status.OFF_DUTY


def test_urgent_order_preempts_a_crew_from_a_non_urgent_one(django_capture_on_commit_callbacks):
    # Given the only crew nearby busy (full) on a routine order, a free crew 30 km away
    busy = make_crew(dlat=0.005, capacity=1)
    make_crew(dlat=0.3, capacity=1)
    routine = make_order(dlat=0.01)
    services.work_order_assign(order=routine, crew=busy, actor=None)
    # When a wire-down danger order comes in next to it
    with django_capture_on_commit_callbacks(execute=True):
        danger = make_order(kind=WorkOrder.Kind.DANGER, dispatch=True)
    # Then the near crew is taken off the routine order, and both timelines say why
    danger.refresh_from_db()
    routine.refresh_from_db()
    assert danger.is_urgent
    assert (danger.status, danger.crew_id) == (S.DISPATCHED, busy.pk)
    assert routine.status in (S.DISPATCHED, S.CREATED, S.REJECTED)
    assert routine.crew_id != busy.pk
    assert DispatchRefusal.objects.filter(order=routine, crew=busy, reason="preempted").exists()
    assert routine.events.filter(kind=WorkOrderEvent.Kind.PREEMPTED).exists()
    assert danger.events.filter(kind=WorkOrderEvent.Kind.PREEMPTED).exists()
    decision = DispatchDecision.objects.filter(order=danger, crew=busy).get()
    assert decision.data["preempted_order"] == routine.pk


def test_urgent_order_does_not_preempt_a_crew_on_site():
    busy = make_crew(dlat=0.005, capacity=1)
    make_crew(dlat=0.3, capacity=1)
    routine = force_status(make_order(dlat=0.01), S.ON_SITE, crew=busy)
    danger = make_order(kind=WorkOrder.Kind.DANGER)
    services.work_order_dispatch_auto(order_id=danger.pk)
    danger.refresh_from_db()
    assert danger.crew_id != busy.pk
    assert WorkOrder.objects.get(pk=routine.pk).crew_id == busy.pk


def test_storm_mode_defers_to_one_batch_that_respects_capacity(
    django_capture_on_commit_callbacks, settings
):
    settings.WORKORDERS_STORM_THRESHOLD = 3
    crews = [make_crew(dlat=0.01 * i, capacity=2) for i in range(3)]
    # Given more waiting orders than the threshold (no dispatch yet)
    orders = [make_order(dlat=0.003 * i) for i in range(8)]
    urgent = make_order(priority=Priority.URGENT)
    # When their dispatch tasks run, non-urgent ones are left to the batch
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for order in [*orders, urgent]:
            services.work_order_dispatch_auto(order_id=order.pk)
    # The urgent one went at once, by the direct path
    urgent.refresh_from_db()
    assert urgent.status == S.DISPATCHED
    assert DispatchDecision.objects.get(order=urgent).mode == DispatchDecision.Mode.DIRECT
    assert WorkOrder.objects.filter(pk__in=[o.pk for o in orders], status=S.CREATED).count() == 8
    # One batch task was scheduled (debounced), whatever the number of orders
    assert len(callbacks) == 1
    stats = services.work_orders_dispatch_batch()
    assert stats["assigned"] == 5  # 3 crews x 2 slots, one slot taken by the urgent order
    per_crew = {
        c.pk: WorkOrder.objects.filter(crew=c, status__in=WorkOrder.WITH_CREW).count()
        for c in crews
    }
    assert all(n <= 2 for n in per_crew.values())
    assert (
        DispatchDecision.objects.filter(
            mode=DispatchDecision.Mode.BATCH, crew__isnull=False
        ).count()
        == 5
    )
    left = WorkOrder.objects.filter(status=S.CREATED)
    assert left.count() == 3
    assert DispatchDecision.objects.filter(order__in=left, crew__isnull=True).count() == 3


def test_sweeper_requeues_an_order_whose_message_was_lost(
    django_capture_on_commit_callbacks, settings
):
    settings.WORKORDERS_DISPATCH_STALE_SECONDS = 30
    crew = make_crew()
    # Given an order whose dispatch message never ran (lost)
    with django_capture_on_commit_callbacks(execute=False):
        order = make_order(dispatch=True)
    assert _dispatched(order) == (S.CREATED, None)
    # Not yet stale: the sweeper leaves it alone
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_requeue_stuck_task.apply()
    assert _dispatched(order) == (S.CREATED, None)
    # When it has waited past the stale interval, the sweeper re-queues it once
    WorkOrder.objects.filter(pk=order.pk).update(
        dispatch_requested_at=timezone.now() - timedelta(seconds=31)
    )
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_requeue_stuck_task.apply()
    assert _dispatched(order) == (S.DISPATCHED, crew.pk)
    assert DispatchDecision.objects.filter(order=order).count() == 1


def test_manual_assignment_records_the_ranking_and_can_redispatch():
    near = make_crew(dlat=0.01)
    far = make_crew(dlat=0.05, capacity=1)
    order = make_order()
    services.work_order_assign(order=order, crew=far, actor=None, reason="熟悉该片区")
    assert _dispatched(order) == (S.DISPATCHED, far.pk)
    decision = DispatchDecision.objects.get(order=order)
    assert decision.mode == DispatchDecision.Mode.MANUAL
    assert decision.candidates[0]["crew_id"] == near.pk  # what the engine would have done
    # Re-dispatch to another crew: the first is withdrawn and remembered
    order.refresh_from_db()
    services.work_order_assign(order=order, crew=near, actor=None)
    assert _dispatched(order) == (S.DISPATCHED, near.pk)
    assert DispatchRefusal.objects.filter(order=order, crew=far, reason="withdrawn").exists()
    with pytest.raises(Conflict):
        services.work_order_assign(order=order, crew=near, actor=None)


def test_manual_assignment_refuses_an_off_duty_crew_and_marks_over_capacity():
    off = make_crew(on_duty=False)
    full = make_crew(capacity=1)
    force_status(make_order(), S.ACCEPTED, crew=full)
    order = make_order()
    with pytest.raises(Conflict):
        services.work_order_assign(order=order, crew=off, actor=None)
    services.work_order_assign(order=order, crew=full, actor=None)
    assert DispatchDecision.objects.get(order=order).data["over_capacity"] is True


def test_order_without_any_location_waits_with_a_decision():
    make_crew()
    order = services.work_order_create(
        kind=WorkOrder.Kind.INSPECTION, title="巡视", actor=None, dispatch=False
    )
    services.work_order_dispatch_auto(order_id=order.pk)
    assert DispatchDecision.objects.get(order=order).outcome == "no_location"


def test_bulk_compare_and_set_skips_orders_changed_meanwhile():
    from workorders.services import common

    crews = [make_crew(), make_crew()]
    fresh, stale = make_order(), make_order()
    stale_copy = WorkOrder.objects.get(pk=stale.pk)
    services.work_order_cancel(order=stale, actor=None, reason="用户撤销")
    moved = common.cas_dispatch_many([(fresh, crews[0]), (stale_copy, crews[1])], at=timezone.now())
    assert moved == {fresh.pk: S.CREATED}
    assert _dispatched(fresh) == (S.DISPATCHED, crews[0].pk)
    assert WorkOrder.objects.get(pk=stale.pk).status == S.CANCELLED


def test_prefiltering_many_crews_keeps_the_best_choice(monkeypatch):
    import random

    from workorders import dispatching, selectors
    from workorders.services import assign as dispatch_module

    rng = random.Random(7)
    grid = make_grid()
    for _ in range(60):
        make_crew(
            dlat=rng.uniform(-0.2, 0.2),
            dlng=rng.uniform(-0.2, 0.2),
            capacity=rng.choice([1, 2, 3]),
            grid=grid if rng.random() < 0.3 else None,
            on_duty=rng.random() < 0.9,
        )
    monkeypatch.setattr(dispatch_module, "PREFILTER_ABOVE", 10)
    states = selectors.crew_states_for_dispatch()
    policy = dispatch_module.dispatch_policy()
    now = timezone.now()
    for i in range(15):
        order = make_order(dlat=rng.uniform(-0.15, 0.15), dlng=rng.uniform(-0.15, 0.15), grid=grid)
        request = selectors.work_order_dispatch_request(order)
        full = dispatching.rank_crews(request, states, now=now, policy=policy)
        subset, counts = dispatch_module._competitors(request, states, now=now, policy=policy)
        assert len(subset) < len(states), i
        partial = dispatching.rank_crews(request, subset, now=now, policy=policy)
        assert partial.best.crew_id == full.best.crew_id
        assert counts.get("off_duty", 0) == sum(not s.on_duty for s in states)
