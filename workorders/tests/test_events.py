"""Reactions to the outages app's domain events: one repair order per outage (never per
call), single-premise orders, danger orders even for merged reports, cancellation."""

import pytest

from outages import events
from outages import services as outage_services
from outages.models import Outage, TroubleReport
from outages.tests.conftest import build_network
from outages.tests.factories import TroubleReportFactory, outage_type
from workorders.models import WorkOrder
from workorders.tests.factories import make_crew

pytestmark = pytest.mark.usefixtures("wo_reference")


def test_predicted_then_confirmed_outage_raises_one_order(django_capture_on_commit_callbacks):
    net = build_network()
    crew = make_crew()
    # Both events are delivered after the commit, one raise task each
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
        )
        outage_services.outage_transition(outage=outage, to=Outage.Status.CONFIRMED, actor=None)
    orders = WorkOrder.objects.filter(outage=outage)
    assert orders.count() == 1
    order = orders.get()
    assert order.kind == WorkOrder.Kind.OUTAGE_REPAIR
    # ... and it was dispatched, which moved the outage on
    assert (order.status, order.crew_id) == (WorkOrder.Status.DISPATCHED, crew.pk)
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CREW_DISPATCHED


def test_many_calls_into_one_outage_do_not_raise_more_orders(django_capture_on_commit_callbacks):
    net = build_network()
    make_crew()
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
        )
        for _ in range(3):
            events.publish(events.OUTAGE_PREDICTED, outage_id=outage.pk)
    assert WorkOrder.objects.filter(outage=outage).count() == 1


def test_premise_visit_event_raises_a_single_premise_order(django_capture_on_commit_callbacks):
    net = build_network()
    make_crew(skills=("lv",))
    sp = net.sps["T2"][0]
    report = TroubleReportFactory(service_point=sp, status=TroubleReport.Status.SINGLE_PREMISE)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(
            events.REPORT_NEEDS_PREMISE_VISIT, report_id=report.pk, service_point_id=sp.pk
        )
        events.publish(
            events.REPORT_NEEDS_PREMISE_VISIT, report_id=report.pk, service_point_id=sp.pk
        )
    order = WorkOrder.objects.get(source_report=report)
    assert order.kind == WorkOrder.Kind.PREMISE_REPAIR
    assert order.service_point == sp
    assert (order.lat, order.lng) == (sp.lat, sp.lng)
    assert list(order.reports.all()) == [report]
    assert order.skill_needed.code == "lv"


def test_danger_event_raises_an_urgent_order_even_for_a_merged_report(
    django_capture_on_commit_callbacks,
):
    net = build_network()
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
        )
    report = TroubleReportFactory(
        service_point=net.sps["T1"][0],
        symptom=TroubleReport.Symptom.WIRE_DOWN,
        status=TroubleReport.Status.MERGED,
        outage=outage,
    )
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.REPORT_DANGER, report_id=report.pk)
    danger = WorkOrder.objects.get(source_report=report)
    assert danger.kind == WorkOrder.Kind.DANGER
    assert danger.is_urgent
    assert danger.outage_id == outage.pk
    # The outage still has exactly one repair order besides it
    assert WorkOrder.objects.filter(outage=outage, kind=WorkOrder.Kind.OUTAGE_REPAIR).count() == 1


def test_cancelled_outage_cancels_its_order(django_capture_on_commit_callbacks):
    net = build_network()
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        outage_services.outage_transition(
            outage=Outage.objects.get(pk=outage.pk), to=Outage.Status.CANCELLED, actor=None
        )
    assert WorkOrder.objects.get(outage=outage).status == WorkOrder.Status.CANCELLED


def test_restored_outage_stops_the_orders_restoration_clock(django_capture_on_commit_callbacks):
    net = build_network()
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        outage_services.outage_restore(outage=Outage.objects.get(pk=outage.pk), actor=None)
    order = WorkOrder.objects.get(outage=outage)
    assert order.restored_at == Outage.objects.get(pk=outage.pk).restored_at


def test_planned_outages_raise_no_repair_order(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    net = build_network()
    start = timezone.now() + timedelta(days=8)
    with django_capture_on_commit_callbacks(execute=True):
        outage = outage_services.planned_outage_create(
            type=outage_type("planned_maintenance"),
            devices=[net["S1"]],
            planned_start_at=start,
            planned_end_at=start + timedelta(hours=4),
            description="计划检修",
            actor=None,
        )
    assert not WorkOrder.objects.filter(outage=outage).exists()
