"""The trace suggestion: the pure rules, then real outage and work-order timelines."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from complaints import services
from complaints import trace as t
from complaints.models import ComplaintEvent
from complaints.tests.factories import make_complaint
from complaints.tests.helpers import past_outage, premise_order, shift_etr

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def steps(facts: t.TraceInput) -> list[str]:
    return [s.step for s in t.suggest(facts)]


def test_late_arrival_points_at_travel():
    order = t.OrderFacts(
        order_id=1,
        created_at=T0,
        dispatched_at=T0 + timedelta(minutes=5),
        arrive_due_at=T0 + timedelta(minutes=45),
        arrived_at=T0 + timedelta(minutes=80),
    )
    assert steps(t.TraceInput("repair_service", T0 + timedelta(hours=3), orders=[order]))[0] == (
        "travel"
    )


def test_arrival_in_time_is_no_fault_of_travel():
    order = t.OrderFacts(
        order_id=1,
        created_at=T0,
        dispatched_at=T0 + timedelta(minutes=5),
        arrive_due_at=T0 + timedelta(minutes=45),
        arrived_at=T0 + timedelta(minutes=30),
    )
    assert "travel" not in steps(t.TraceInput("outage", T0 + timedelta(hours=1), orders=[order]))


def test_etr_missed_by_more_than_an_hour_points_at_information():
    outage = t.OutageFacts(
        outage_id=1,
        started_at=T0,
        restored_at=T0 + timedelta(hours=3),
        etrs=((T0 + timedelta(minutes=10), T0 + timedelta(hours=1, minutes=30)),),
    )
    result = t.suggest(t.TraceInput("outage", T0 + timedelta(hours=4), outages=[outage]))
    assert result[0].step == "information"
    assert result[0].evidence["missed_minutes"] == 90


def test_etr_missed_by_less_than_an_hour_is_not_information():
    outage = t.OutageFacts(
        outage_id=1,
        started_at=T0,
        restored_at=T0 + timedelta(hours=2),
        etrs=((T0 + timedelta(minutes=10), T0 + timedelta(hours=1, minutes=30)),),
    )
    assert "information" not in steps(
        t.TraceInput("outage", T0 + timedelta(hours=4), outages=[outage])
    )


def test_slow_dispatch_and_bounces():
    waited = t.OrderFacts(order_id=1, created_at=T0, first_dispatched_at=T0 + timedelta(hours=1))
    bounced = t.OrderFacts(
        order_id=2, created_at=T0, first_dispatched_at=T0 + timedelta(minutes=2), rejections=3
    )
    assert steps(t.TraceInput("outage", T0 + timedelta(hours=2), orders=[waited]))[0] == "dispatch"
    assert "dispatch" in steps(t.TraceInput("outage", T0 + timedelta(hours=2), orders=[bounced]))


def test_conduct_category_and_unlinked_reports():
    assert steps(t.TraceInput("service_conduct", T0))[0] == "conduct"
    report = t.ReportFacts(report_id=1, received_at=T0, linked=False)
    assert steps(t.TraceInput("outage", T0, reports=[report])) == ["intake"]


def test_nothing_to_go_on_suggests_nothing():
    assert t.suggest(t.TraceInput("billing", T0)) == []


# --- from real timelines ---------------------------------------------------------------------


@pytest.mark.django_db
def test_suggestion_from_a_real_outage_whose_etr_was_missed(network, sp):
    # Given an outage of 5 hours whose ETR, announced early, was missed by about 3 hours
    outage = past_outage(network, started_ago=timedelta(hours=5), lasted=None)
    now = timezone.now()
    shift_etr(
        outage, etr=now - timedelta(hours=3), announced_at=now - timedelta(hours=4, minutes=50)
    )
    from outages.services import outage_restore

    outage_restore(outage=outage, actor=None)
    # When the customer complains
    c = make_complaint(sp, category="info_etr")
    trace = services.complaint_trace_suggest(complaint=c)
    # Then the information release is suggested, restoration (5 h out) comes next
    assert trace.suggested_step == "information"
    assert trace.confirmed_at is None
    assert [s["step"] for s in trace.suggestions][:2] == ["information", "restoration"]


@pytest.mark.django_db
def test_suggestion_from_a_real_late_work_order(sp):
    now = timezone.now()
    from workorders.tests.factories import force_status, make_crew

    order = premise_order(sp)
    force_status(
        order,
        "on_site",
        crew=make_crew(),
        arrive_due_at=now - timedelta(hours=2),
        arrived_at=now - timedelta(hours=1),
    )
    c = make_complaint(sp, category="repair_late")
    trace = services.complaint_trace_suggest(complaint=c)
    assert trace.suggested_step == "travel"
    assert trace.suggestions[0]["evidence"]["order"] == order.pk
    # And the investigator confirms another step: the suggestion stays for the record
    services.complaint_trace_confirm(complaint=c, step="dispatch", finding="派单延误")
    trace.refresh_from_db()
    assert (trace.suggested_step, trace.step) == ("travel", "dispatch")
    assert ComplaintEvent.objects.filter(complaint=c, kind="trace").exists()
