"""The work-order lifecycle: every transition allowed and refused, the compare-and-set, the
constraints, and how progress moves the linked outage."""

import itertools
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    PermissionDenied,
    TransitionNotAllowed,
)
from outages import services as outage_services
from outages.models import Outage, OutageEvent
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type
from workorders import services
from workorders.models import DispatchRefusal, ReturnVisit, WorkOrder, WorkOrderEvent
from workorders.tests.factories import force_status, make_crew, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status
ALL = list(S)
PAIRS = list(itertools.product(ALL, ALL))


def _args_for(to, crew, other):
    kwargs = {}
    if to in (S.DISPATCHED, S.CLAIMED):
        kwargs["crew"] = crew
    if to == S.MERGED:
        kwargs["merged_into"] = other
    return kwargs


@pytest.mark.parametrize(("source", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_or_refused_by_the_table(source, to):
    # Given an order in ``source`` (with a crew where the status needs one)
    crew = make_crew()
    order = force_status(make_order(), source, crew=crew)
    other = make_order()
    allowed = to in WorkOrder.ALLOWED_TRANSITIONS[source]
    # When it is moved to ``to``
    if allowed:
        services.work_order_transition(
            order=order, to=to, actor=None, **_args_for(to, make_crew(), other)
        )
        # Then the status, the version and the timeline follow
        fresh = WorkOrder.objects.get(pk=order.pk)
        assert fresh.status == to
        assert fresh.version == 2
        event = fresh.events.get(kind=WorkOrderEvent.Kind.STATUS_CHANGED)
        assert (event.from_status, event.to_status) == (source, to)
    else:
        with pytest.raises(TransitionNotAllowed):
            services.work_order_transition(
                order=order, to=to, actor=None, **_args_for(to, make_crew(), other)
            )
        fresh = WorkOrder.objects.get(pk=order.pk)
        assert fresh.status == source
        assert fresh.version == 1
        assert not fresh.events.filter(kind=WorkOrderEvent.Kind.STATUS_CHANGED).exists()


def test_a_stale_copy_gets_concurrent_update_and_changes_nothing():
    crew = make_crew()
    order = make_order()
    stale = WorkOrder.objects.get(pk=order.pk)
    services.work_order_transition(order=order, to=S.DISPATCHED, actor=None, crew=crew)
    # The second dispatcher still sees "created"
    with pytest.raises(ConcurrentUpdate):
        services.work_order_transition(order=stale, to=S.CANCELLED, actor=None)
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.status == S.DISPATCHED
    assert fresh.events.filter(kind=WorkOrderEvent.Kind.STATUS_CHANGED).count() == 1


def test_version_alone_decides_when_the_status_is_unchanged():
    # A bump that is not a status change (findings) makes an older copy stale too.
    crew = make_crew()
    order = force_status(make_order(), S.ON_SITE, crew=crew)
    stale = WorkOrder.objects.get(pk=order.pk)
    services.work_order_record_findings(order=order, crew=crew, actor=None, note="绝缘子破损")
    with pytest.raises(ConcurrentUpdate):
        services.work_order_complete(order=stale, crew=crew, actor=None)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"status": S.DISPATCHED, "crew": None}, "crew_when_held"),
        ({"status": S.MERGED}, "merged_iff_target"),
        ({"status": S.ON_SITE, "arrived_at": None}, "arrived_when_on_site"),
        ({"status": S.COMPLETED, "completed_at": None}, "completed_when_done"),
        ({"priority": 9}, "priority_range"),
        ({"lat": 123.0}, "coordinates_valid"),
    ],
)
def test_database_constraints_hold_the_invariants(fields, rule):
    crew = make_crew()
    order = make_order()
    base = {"crew": crew, "dispatched_at": timezone.now(), "arrived_at": timezone.now()}
    base["completed_at"] = timezone.now()
    values = {**base, **fields}
    if values.get("status") is None:
        values = fields
    with pytest.raises(IntegrityError, match=rule), transaction.atomic():
        WorkOrder.objects.filter(pk=order.pk).update(**values)


def test_one_live_repair_order_per_outage_and_the_raise_is_idempotent():
    net = build_network()
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    first = services.work_order_raise_for_outage(outage_id=outage.pk)
    again = services.work_order_raise_for_outage(outage_id=outage.pk)
    assert first is not None
    assert again.pk == first.pk
    assert WorkOrder.objects.filter(outage=outage).count() == 1
    # The order sits where the crew must go, with the outage's grid and priority
    assert first.kind == WorkOrder.Kind.OUTAGE_REPAIR
    assert first.priority == outage.type.default_priority
    assert first.lat is not None
    # A second one by hand is refused by the database rule
    with pytest.raises(Conflict):
        services.work_order_create(
            kind=WorkOrder.Kind.OUTAGE_REPAIR,
            title="dup",
            actor=None,
            outage=outage,
            lat=22.5,
            lng=114.0,
        )


def _outage_order(net, crew):
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    order = services.work_order_raise_for_outage(outage_id=outage.pk)
    return outage, order


def test_progress_moves_the_outage_through_its_services():
    net = build_network()
    crew = make_crew()
    outage, order = _outage_order(net, crew)
    # Dispatch: predicted → crew_dispatched
    services.work_order_assign(order=order, crew=crew, actor=None)
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CREW_DISPATCHED
    services.work_order_accept(order=order, crew=crew, actor=None)
    services.work_order_depart(order=order, crew=crew, actor=None)
    # Arrival: crew_on_site, the restoration clock starts
    services.work_order_arrive(order=order, crew=crew, actor=None)
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CREW_ON_SITE
    order.refresh_from_db()
    assert order.restore_due_at == order.arrived_at + timedelta(minutes=180)
    # Findings set the outage's cause
    cause = outage_cause("tree_contact")
    services.work_order_record_findings(
        order=order, crew=crew, actor=None, cause=cause, note="树障"
    )
    assert Outage.objects.get(pk=outage.pk).cause == cause
    # Complete is refused while customers are still out
    with pytest.raises(Conflict) as refused:
        services.work_order_complete(order=order, crew=crew, actor=None)
    assert refused.value.code == "outage_not_restored"
    # Partial restoration below T1, then everything
    services.work_order_restore(order=order, crew=crew, actor=None, device=net["T1"])
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.PARTIALLY_RESTORED
    order.refresh_from_db()
    assert order.restored_at is None
    services.work_order_restore(order=order, crew=crew, actor=None)
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.RESTORED
    order.refresh_from_db()
    assert order.restored_at is not None
    services.work_order_complete(order=order, crew=crew, actor=None)
    assert WorkOrder.objects.get(pk=order.pk).status == S.COMPLETED
    # The outage's own timeline names the order
    reasons = OutageEvent.objects.filter(outage=outage).values_list("reason", flat=True)
    assert any(f"#{order.pk}" in r for r in reasons)


def test_reject_returns_to_dispatch_remembers_the_crew_and_withdraws_the_outage():
    net = build_network()
    crew = make_crew()
    outage, order = _outage_order(net, crew)
    services.work_order_assign(order=order, crew=crew, actor=None)
    services.work_order_reject(order=order, crew=crew, actor=None, reason="车辆故障")
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.status == S.REJECTED
    assert fresh.crew_id is None
    assert DispatchRefusal.objects.filter(order=order, crew=crew, reason="rejected").exists()
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CONFIRMED


def test_a_crew_acts_only_on_its_own_orders():
    crew, stranger = make_crew(), make_crew()
    order = force_status(make_order(), S.DISPATCHED, crew=crew)
    with pytest.raises(PermissionDenied):
        services.work_order_accept(order=order, crew=stranger, actor=None)


def test_arrival_time_from_the_future_is_refused():
    crew = make_crew()
    order = force_status(make_order(), S.ACCEPTED, crew=crew)
    with pytest.raises(DomainError) as err:
        services.work_order_arrive(
            order=order, crew=crew, actor=None, at=timezone.now() + timedelta(hours=1)
        )
    assert "at" in err.value.fields


def test_merge_moves_the_reports_and_refuses_odd_targets(django_capture_on_commit_callbacks):
    from outages.tests.factories import TroubleReportFactory

    report = TroubleReportFactory(lat=22.54, lng=114.05)
    dup = make_order(source_report=report)
    target = make_order()
    with pytest.raises(DomainError):
        services.work_order_merge(order=dup, into=dup, actor=None)
    services.work_order_merge(order=dup, into=target, actor=None, reason="同一地址")
    dup.refresh_from_db()
    assert dup.status == S.MERGED
    assert dup.merged_into_id == target.pk
    assert list(target.reports.all()) == [report]
    assert target.events.filter(kind=WorkOrderEvent.Kind.MERGED_IN).exists()
    # A merged order cannot be a target
    with pytest.raises(Conflict):
        services.work_order_merge(order=make_order(), into=dup, actor=None)


def test_cancel_needs_a_reason():
    order = make_order()
    with pytest.raises(DomainError):
        services.work_order_cancel(order=order, actor=None, reason="  ")
    services.work_order_cancel(order=order, actor=None, reason="用户撤销")
    assert WorkOrder.objects.get(pk=order.pk).status == S.CANCELLED


def _finish(order, crew):
    services.work_order_assign(order=order, crew=crew, actor=None)
    services.work_order_accept(order=order, crew=crew, actor=None)
    services.work_order_arrive(order=order, crew=crew, actor=None)
    services.work_order_restore(order=order, crew=crew, actor=None)
    services.work_order_complete(order=order, crew=crew, actor=None)
    return order


def test_return_visit_confirmed_closes_the_order():
    crew = make_crew()
    order = _finish(make_order(), crew)
    visit = services.work_order_return_visit(
        order=order, actor=None, restored_confirmed=True, satisfaction=5
    )
    assert visit.follow_up is None
    assert WorkOrder.objects.get(pk=order.pk).status == S.CLOSED
    with pytest.raises(DomainError):
        services.work_order_return_visit(
            order=_finish(make_order(), crew), actor=None, restored_confirmed=True, satisfaction=6
        )


def test_return_visit_still_off_opens_a_nested_outage_and_a_new_order():
    # Given a restored outage whose repair order is completed
    net = build_network()
    crew = make_crew()
    outage, order = _outage_order(net, crew)
    _finish(order, crew)
    customer = net.sps["T1"][0]
    # When the customer says the power is still off
    visit = services.work_order_return_visit(
        order=order, actor=None, restored_confirmed=False, satisfaction=2, service_point=customer
    )
    # Then the order is closed and the work reopens on a child outage of this one
    assert WorkOrder.objects.get(pk=order.pk).status == S.CLOSED
    follow = visit.follow_up
    assert follow.reopened_from_id == order.pk
    assert follow.status == S.CREATED
    assert follow.priority == max(1, order.priority - 1)
    child = follow.outage
    assert child.parent_id == outage.pk
    assert child.service_point_id == customer.pk
    assert child.status == Outage.Status.CONFIRMED
    assert ReturnVisit.objects.get(order=order).satisfaction == 2


def test_return_visit_still_off_without_outage_reopens_a_premise_order():
    crew = make_crew()
    order = _finish(make_order(), crew)
    visit = services.work_order_return_visit(order=order, actor=None, restored_confirmed=False)
    assert visit.follow_up.kind == WorkOrder.Kind.PREMISE_REPAIR
    assert visit.follow_up.outage_id is None


def test_outage_cancelled_cancels_its_repair_order():
    net = build_network()
    crew = make_crew()
    outage, order = _outage_order(net, crew)
    services.work_order_assign(order=order, crew=crew, actor=None)
    outage_services.outage_transition(
        outage=Outage.objects.get(pk=outage.pk), to=Outage.Status.CANCELLED, actor=None
    )
    assert services.work_orders_outage_cancelled(outage_id=outage.pk) == [order.pk]
    assert WorkOrder.objects.get(pk=order.pk).status == S.CANCELLED


def test_console_outage_actions_go_through_the_outage_services():
    net = build_network()
    crew = make_crew()
    outage, order = _outage_order(net, crew)
    services.work_order_confirm_outage(order=order, actor=None)
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CONFIRMED
    with pytest.raises(TransitionNotAllowed):
        services.work_order_confirm_outage(order=order, actor=None)
    etr = timezone.now() + timedelta(hours=2)
    services.work_order_set_outage_etr(order=order, etr=etr, actor=None)
    assert Outage.objects.get(pk=outage.pk).etr == etr
    with pytest.raises(Conflict):
        services.work_order_set_outage_etr(order=make_order(), etr=etr, actor=None)
