"""Automatic links and each risk flag, and the escalation risk they add up to."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints import frequent
from complaints.models import Complaint, ComplaintFlag
from complaints.selectors import complaint_links_by_kind, customer_escalation_risk
from complaints.tests.factories import make_complaint
from complaints.tests.helpers import past_outage, premise_order

pytestmark = pytest.mark.django_db
C = ComplaintFlag.Code


def codes(c: Complaint) -> set[str]:
    return set(c.flags.values_list("code", flat=True))


def test_plain_complaint_has_no_flag_and_low_risk(sp):
    c = make_complaint(sp)
    assert codes(c) == set()
    assert c.risk == Complaint.Risk.LOW


def test_links_cover_the_last_30_days_only(network, sp):
    recent = past_outage(network, started_ago=timedelta(days=3))
    old = past_outage(network, started_ago=timedelta(days=40))
    order = premise_order(sp)
    c = make_complaint(sp)
    links = complaint_links_by_kind(c)
    assert recent.pk in links["outages"]
    assert old.pk not in links["outages"]
    assert order.pk in links["work_orders"]


def test_repeat_complaint_within_30_days(sp):
    first = make_complaint(sp)
    second = make_complaint(sp)
    assert C.REPEAT not in codes(first)
    assert C.REPEAT in codes(second)
    assert second.flags.get(code=C.REPEAT).detail["earlier"] == [first.reference]


def test_repeat_window_is_30_days(sp):
    old = make_complaint(sp)
    Complaint.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=31))
    assert C.REPEAT not in codes(make_complaint(sp))


def test_outage_already_complained(network):
    a, b = network.sps["T1"][0], network.sps["T2"][0]
    outage = past_outage(network, "S1", started_ago=timedelta(hours=3))
    first = make_complaint(a)
    second = make_complaint(b)
    assert C.OUTAGE_COMPLAINED not in codes(first)
    assert second.flags.get(code=C.OUTAGE_COMPLAINED).detail["outages"] == [outage.pk]


def test_frequent_outage_customer_from_interruption_counts(network, sp, monkeypatch):
    monkeypatch.setattr(frequent, "_reliability_function", lambda: None)
    # Given five sustained interruptions this year: a warning, not yet frequent
    for n in range(5):
        past_outage(network, started_ago=timedelta(hours=30 * (n + 1)), lasted=timedelta(hours=1))
    assert frequent.frequent_level(service_point_id=sp.pk) == frequent.WARNING
    assert C.FREQUENT_OUTAGE not in codes(make_complaint(sp, phone="1"))
    # When a sixth comes (a momentary one does not count)
    past_outage(network, started_ago=timedelta(hours=200), lasted=timedelta(minutes=3))
    assert frequent.frequent_level(service_point_id=sp.pk) == frequent.WARNING
    past_outage(network, started_ago=timedelta(hours=220), lasted=timedelta(hours=2))
    # Then the customer is a frequent-outage customer
    assert frequent.frequent_level(service_point_id=sp.pk) == frequent.FREQUENT
    assert C.FREQUENT_OUTAGE in codes(make_complaint(sp))


def test_frequent_status_comes_from_reliability_when_it_answers(sp, monkeypatch):
    monkeypatch.setattr(
        frequent, "_reliability_function", lambda: lambda service_point_id: {"level": "frequent"}
    )
    assert C.FREQUENT_OUTAGE in codes(make_complaint(sp))


def test_sla_breach_experienced(sp):
    premise_order(sp, arrive_breached_at=timezone.now() - timedelta(hours=1))
    c = make_complaint(sp)
    assert C.SLA_BREACH in codes(c)
    other = make_complaint(sp.__class__.objects.exclude(pk=sp.pk).first())
    assert C.SLA_BREACH not in codes(other)


def test_important_customer(network):
    important = network.sps["T4"][0]
    assert important.is_important
    assert C.IMPORTANT in codes(make_complaint(important))
    assert C.IMPORTANT not in codes(make_complaint(network.sps["T4"][1]))


def test_public_opinion_may_name_only_an_area():
    c = make_complaint(None, channel=Complaint.Channel.PUBLIC_OPINION, area="福田区某小区")
    assert c.service_point is None
    assert C.PUBLIC_OPINION in codes(c)


def test_flags_add_up_to_high_risk(network):
    important = network.sps["T4"][0]
    premise_order(important, arrive_breached_at=timezone.now())
    make_complaint(important)
    c = make_complaint(important)
    assert {C.REPEAT, C.IMPORTANT, C.SLA_BREACH} <= codes(c)
    assert c.risk == Complaint.Risk.HIGH


def test_customer_risk_before_a_complaint(network):
    important = network.sps["T4"][0]
    risk = customer_escalation_risk(service_point_id=important.pk)
    assert [f["code"] for f in risk["flags"]] == [C.IMPORTANT]
    make_complaint(important)
    risk = customer_escalation_risk(service_point_id=important.pk)
    assert {f["code"] for f in risk["flags"]} == {C.IMPORTANT, C.REPEAT}
    assert risk["risk"] == Complaint.Risk.HIGH
    assert len(risk["open_complaints"]) == 1


def test_frequent_status_follows_the_reliability_policy_and_its_alerts(network, sp):
    from reliability.services import frequent_outage_check

    # Given six sustained interruptions this year, more than a day apart (no merging)
    for n in range(6):
        past_outage(network, started_ago=timedelta(hours=30 * (n + 1)), lasted=timedelta(hours=1))
    # Then the single-customer status is the reliability app's (its policy), and no alert exists
    assert frequent.frequent_level(service_point_id=sp.pk) == frequent.FREQUENT
    others = [s.pk for s in network.sps["T2"]]
    before = frequent.frequent_levels(service_point_ids=[sp.pk, *others], year_counts={})
    assert before[sp.pk] == frequent.NORMAL  # the bulk read is the last scan's alerts
    # When the reliability check has run, the bulk read sees its open alert
    frequent_outage_check(service_point_ids=[sp.pk])
    after = frequent.frequent_levels(service_point_ids=[sp.pk, *others], year_counts={})
    assert after[sp.pk] == frequent.FREQUENT
    assert all(after[o] == frequent.NORMAL for o in others)
