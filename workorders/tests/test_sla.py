"""SLA clocks: deadlines by area class, warnings at 80 %, breaches, idempotent marks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from grids.models import AreaClass
from workorders import selectors, services
from workorders.models import SlaPolicy, WorkOrder, WorkOrderEvent
from workorders.tasks import work_orders_sla_watch_task
from workorders.tests.factories import force_status, make_crew, make_grid, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


@pytest.mark.parametrize(
    ("area", "minutes"), [(AreaClass.URBAN, 45), (AreaClass.RURAL, 90), (AreaClass.REMOTE, 120)]
)
def test_arrival_deadline_by_area_class(area, minutes):
    order = make_order(grid=make_grid(area_class=area))
    assert order.area_class == area
    assert order.arrive_due_at == order.sla_started_at + timedelta(minutes=minutes)
    assert order.arrive_warn_at == order.sla_started_at + timedelta(minutes=minutes * 0.8)


def test_restoration_deadline_starts_at_arrival():
    crew = make_crew()
    rural = make_order(grid=make_grid(area_class=AreaClass.RURAL))
    services.work_order_assign(order=rural, crew=crew, actor=None)
    services.work_order_accept(order=rural, crew=crew, actor=None)
    arrived = timezone.now() - timedelta(minutes=2)
    services.work_order_arrive(order=rural, crew=crew, actor=None, at=arrived)
    rural.refresh_from_db()
    assert rural.arrived_at == arrived
    assert rural.restore_due_at == arrived + timedelta(hours=4)


def test_kinds_without_commitments_have_no_clock():
    order = make_order(kind=WorkOrder.Kind.INSPECTION)
    assert order.arrive_due_at is None


def test_policy_is_editable():
    SlaPolicy.objects.filter(area_class=AreaClass.URBAN).update(arrive_minutes=30)
    order = make_order()
    assert order.arrive_due_at == order.sla_started_at + timedelta(minutes=30)


def _age(order, minutes):
    """Move the order's clock back ``minutes`` (time passes)."""
    delta = timedelta(minutes=minutes)
    WorkOrder.objects.filter(pk=order.pk).update(
        sla_started_at=order.sla_started_at - delta,
        arrive_warn_at=order.arrive_warn_at - delta,
        arrive_due_at=order.arrive_due_at - delta,
    )


def test_warning_then_breach_marked_once_each(django_capture_on_commit_callbacks):
    order = make_order()
    # At 37 minutes of 45: past 80 %
    _age(order, 37)
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_sla_watch_task.apply()
    order.refresh_from_db()
    assert order.sla_state == WorkOrder.SlaState.WARNING
    assert order.arrive_warned_at is not None
    # A second sweep changes nothing
    assert services.work_order_sla_check(order_id=order.pk) == []
    assert order.events.filter(kind=WorkOrderEvent.Kind.SLA_WARNING).count() == 1
    # Past the deadline: breached, once
    _age(order, 10)
    with django_capture_on_commit_callbacks(execute=True):
        work_orders_sla_watch_task.apply()
        work_orders_sla_watch_task.apply()
    order.refresh_from_db()
    assert order.sla_state == WorkOrder.SlaState.BREACHED
    assert order.events.filter(kind=WorkOrderEvent.Kind.SLA_BREACHED).count() == 1
    assert selectors.work_order_ids_sla_due() == []


def test_arrival_in_time_stops_the_clock_and_the_restoration_clock_runs():
    crew = make_crew()
    order = make_order()
    services.work_order_assign(order=order, crew=crew, actor=None)
    services.work_order_accept(order=order, crew=crew, actor=None)
    services.work_order_arrive(order=order, crew=crew, actor=None)
    order.refresh_from_db()
    # An hour after the arrival deadline: the crew arrived in time, no arrival breach, and
    # the 3-hour restoration clock is not due yet
    later = order.arrive_due_at + timedelta(hours=1)
    assert services.work_order_sla_check(order_id=order.pk, now=later) == []
    # Past the restoration warning, then past its deadline
    warn = order.restore_warn_at + timedelta(seconds=1)
    assert services.work_order_sla_check(order_id=order.pk, now=warn) == ["restore_warning"]
    due = order.restore_due_at + timedelta(seconds=1)
    assert services.work_order_sla_check(order_id=order.pk, now=due) == ["restore_breached"]
    assert WorkOrder.objects.get(pk=order.pk).sla_state == WorkOrder.SlaState.BREACHED
    assert services.work_order_sla_check(order_id=order.pk, now=due) == []


def test_finished_orders_are_not_watched():
    crew = make_crew()
    order = force_status(make_order(), S.CANCELLED, crew=crew)
    _age(order, 60)
    assert order.pk not in selectors.work_order_ids_sla_due()
