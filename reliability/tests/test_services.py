"""Alerts from interruptions the outages pool recorded; aggregates; daily figures; preview."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import Conflict
from reliability import indices, selectors, services
from reliability.models import (
    DailyReliability,
    FrequentOutageAlert,
    FrequentOutageAlertEvent,
    FrequentOutagePolicy,
)
from reliability.tests.conftest import days_ago, past_outage

pytestmark = pytest.mark.django_db

Alert = FrequentOutageAlert


@pytest.fixture(autouse=True)
def _rolling_period(db):
    """A rolling 365-day period, so that these tests do not depend on today's date (the
    calendar-year rules are tested in test_frequency)."""
    FrequentOutagePolicy.objects.filter(is_active=True).update(period="rolling_365")


def _snapshot():
    return sorted(
        Alert.objects.values_list(
            "pk", "service_point_id", "level", "status", "last_changed_at", "counts"
        )
    ), FrequentOutageAlertEvent.objects.count()


def test_four_interruptions_raise_warnings_and_a_second_run_changes_nothing(network):
    # given: T1 out four times, 20 days apart, within the year
    for n in (90, 70, 50, 5):
        past_outage(network, "T1", days_ago(n))
    t1 = sorted(network.below("T1"))
    # when
    summary = services.frequent_outage_check(service_point_ids=sorted(network.all_sps))
    # then: T1's three customers are warned (4 in the year), nobody else
    assert summary["raised"] == 3
    alerts = Alert.objects.filter(status="open")
    assert sorted(a.service_point_id for a in alerts) == t1
    alert = alerts.first()
    assert alert.level == "warning"
    assert alert.counts["period"] == 4
    assert alert.reasons
    before = _snapshot()
    # when it runs again
    again = services.frequent_outage_check(service_point_ids=sorted(network.all_sps))
    # then nothing changes
    assert again == {"assessed": 11, "raised": 0, "changed": 0, "closed": 0}
    assert _snapshot() == before


def test_escalation_closes_the_warning_and_opens_frequent(network):
    for n in (40, 30, 20):
        past_outage(network, "T2", days_ago(n))
    t2 = sorted(network.below("T2"))
    services.frequent_outage_check(service_point_ids=t2)
    assert set(Alert.objects.values_list("level", flat=True)) == {"warning"}
    # a fourth within 60 days → frequent
    past_outage(network, "T2", days_ago(10))
    summary = services.frequent_outage_check(service_point_ids=t2)
    assert summary["raised"] == 3
    assert summary["closed"] == 3
    assert set(Alert.objects.filter(status="open").values_list("level", flat=True)) == {"frequent"}
    closed = Alert.objects.filter(status="closed")
    assert set(closed.values_list("close_reason", flat=True)) == {"escalated"}
    assert all(a.closed_at for a in closed)


def test_status_that_improves_closes_the_alert(network):
    for n in (40, 30, 20):
        past_outage(network, "T3", days_ago(n))
    t3 = sorted(network.below("T3"))
    services.frequent_outage_check(service_point_ids=t3)
    assert Alert.objects.filter(status="open").count() == 3
    # far enough ahead, the 30/50-day windows are empty and a new year has begun
    later = timezone.localdate().replace(month=1, day=1) + timedelta(days=366 + 60)
    summary = services.frequent_outage_check(service_point_ids=t3, as_of=later)
    assert summary["closed"] == 3
    assert set(Alert.objects.values_list("close_reason", flat=True)) == {"improved"}


def test_full_scan_assesses_candidates_and_open_alerts_only(network):
    for n in (40, 30, 20):
        past_outage(network, "T1", days_ago(n))
    past_outage(network, "T3", days_ago(15))  # one interruption: no status possible
    chunks = services.frequent_outage_scan()
    ids = [i for c in chunks for i in c]
    assert sorted(ids) == sorted(network.below("T1"))
    summary = services.frequent_outage_scan_now()
    assert summary["raised"] == 3
    assert services.frequent_outage_scan_now()["raised"] == 0


def test_momentary_interruptions_do_not_raise(network):
    for n in (40, 30, 20, 10):
        past_outage(network, "T1", days_ago(n), minutes=5)
    assert services.frequent_outage_scan() == []
    services.frequent_outage_check(service_point_ids=sorted(network.below("T1")))
    assert not Alert.objects.exists()


def test_overlapping_outages_of_one_customer_count_once(network):
    # the feeder breaker and a transformer fault at the same time: T1 customers are in both
    for n in (20, 10):
        past_outage(network, "B", days_ago(n), minutes=120)
        past_outage(network, "T1", days_ago(n, hour=11), minutes=30)
    status = selectors.customer_status(service_point_id=sorted(network.below("T1"))[0])
    assert status["count"] == 2
    assert status["level"] == "warning"


def test_policy_in_the_admin_drives_the_rules(network):
    for n in (40, 30):
        past_outage(network, "T1", days_ago(n))
    sp = sorted(network.below("T1"))[0]
    assert selectors.customer_status(service_point_id=sp)["level"] == "normal"
    FrequentOutagePolicy.objects.filter(is_active=True).update(frequent_period_over=1)
    assert selectors.customer_status(service_point_id=sp)["level"] == "frequent"


def test_acknowledge_and_link_an_inspection_order(network, dispatcher):
    for n in (40, 30, 20):
        past_outage(network, "T1", days_ago(n))
    services.frequent_outage_check(service_point_ids=sorted(network.below("T1")))
    alert = Alert.objects.first()
    acked = services.alert_acknowledge(alert=alert, actor=dispatcher, note="已电话回访")
    assert acked.acknowledged_by == dispatcher
    first_at = acked.acknowledged_at
    again = services.alert_acknowledge(alert=alert, actor=dispatcher, note="已电话回访")
    assert again.acknowledged_at == first_at
    assert again.action_note == "已电话回访"
    linked = services.alert_link_work_order(alert=alert, work_order_id=77, actor=dispatcher)
    assert linked.work_order_id == 77
    services.alert_link_work_order(alert=alert, work_order_id=77, actor=dispatcher)
    with pytest.raises(Conflict):
        services.alert_link_work_order(alert=alert, work_order_id=78, actor=dispatcher)
    kinds = list(alert.events.values_list("kind", flat=True))
    assert kinds == ["raised", "acknowledged", "linked"]


def test_aggregates_flag_a_transformer(network):
    FrequentOutagePolicy.objects.filter(is_active=True).update(transformer_flag_frequent=3)
    for n in (50, 40, 30, 20):
        past_outage(network, "T1", days_ago(n))
    for n in (40, 30, 20, 10):
        past_outage(network, "T4", days_ago(n))
    services.frequent_outage_scan_now()
    rows = {r["name"]: r for r in selectors.alert_aggregates(by="transformer")}
    assert rows["T1"]["frequent"] == 3
    assert rows["T1"]["flagged"] is True
    assert rows["T4"]["frequent"] == 2
    assert rows["T4"]["flagged"] is False
    feeders = selectors.alert_aggregates(by="feeder")
    assert feeders[0]["frequent"] == 5


def test_daily_figures_equal_the_pure_engine_and_recompute_the_same(network):
    # given: on one day, a feeder outage (11 customers, 2 h), T1 again (3, 30 min), a blip
    day = timezone.localdate() - timedelta(days=3)
    past_outage(network, "B", days_ago(3, 8), minutes=120)
    past_outage(network, "T1", days_ago(3, 14), minutes=30)
    past_outage(network, "T3", days_ago(3, 16), minutes=2)
    # when
    services.reliability_daily_compute(day=day)
    first = list(
        DailyReliability.objects.order_by("pk").values(
            "scope", "scope_id", "split", "customer_minutes"
        )
    )
    services.reliability_daily_compute(day=day)
    # then: recomputing gives the same rows, and the figures match the pure engine
    again = list(
        DailyReliability.objects.order_by("pk").values(
            "scope", "scope_id", "split", "customer_minutes"
        )
    )
    assert sorted(map(str, first)) == sorted(map(str, again))
    [city] = selectors.reliability_indices(date_from=day, date_to=day)
    mins = [120] * 11 + [30] * 3
    expected = indices.from_totals(
        indices.Totals(14, float(sum(mins)), 3), customers_served=11, period_hours=24
    )
    assert city["SAIFI"] == pytest.approx(expected.SAIFI)
    assert city["SAIDI"] == pytest.approx(expected.SAIDI)
    assert city["MAIFI"] == pytest.approx(3 / 11)
    assert city["ASAI"] == pytest.approx(expected.ASAI)
    fault = selectors.reliability_indices(date_from=day, date_to=day, split="fault")
    planned = selectors.reliability_indices(date_from=day, date_to=day, split="planned")
    assert fault[0]["SAIFI"] == pytest.approx(city["SAIFI"])
    assert planned[0]["SAIFI"] == 0
    feeder = selectors.reliability_indices(date_from=day, date_to=day, scope="feeder")
    assert feeder[0]["id"] == network["B"].feeder_id


def test_major_event_day_needs_a_year_and_is_flagged_by_two_and_a_half_beta(network):
    # given: a year of ordinary days stored, then a storm day
    start = date(2025, 1, 1)
    now = timezone.now()
    for i in range(366):
        DailyReliability.objects.create(
            day=start + timedelta(days=i),
            scope="city",
            split="all",
            customers_served=100,
            customer_interruptions=1,
            customer_minutes=float(30 + (i * 37) % 90),
            computed_at=now,
        )
    storm = start + timedelta(days=366)
    DailyReliability.objects.create(
        day=storm,
        scope="city",
        split="all",
        customers_served=100,
        customer_interruptions=90,
        customer_minutes=90 * 600.0,
        computed_at=now,
    )
    ordinary = start + timedelta(days=365)
    assert services.reliability_major_event_flag(day=storm) is True
    assert services.reliability_major_event_flag(day=ordinary) is False
    # less than a year before it: never flagged
    assert services.reliability_major_event_flag(day=start + timedelta(days=100)) is False
    full = selectors.reliability_indices(date_from=start, date_to=storm)[0]
    without = selectors.reliability_indices(
        date_from=start, date_to=storm, exclude_major_events=True
    )[0]
    assert without["SAIDI"] < full["SAIDI"]


def test_planned_outage_preview_lists_customers_pushed_over(network):
    from outages import services as outage_services
    from outages.tests.factories import outage_type

    for n in (40, 20):
        past_outage(network, "T1", days_ago(n))
    past_outage(network, "T3", days_ago(200))
    start = timezone.now() + timedelta(days=8)
    planned = outage_services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[network["S1"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="计划检修",
        actor=None,
    )
    preview = selectors.planned_preview(outage_id=planned.pk)
    # T1 (2 recent, the planned one makes 3 in 50 days) → warning; T2 had nothing → still normal
    assert preview["customers"] == 6
    assert preview["into_warning"] == 3
    assert preview["into_frequent"] == 0
    [feeder] = preview["feeders"]
    assert sorted(c["service_point"] for c in feeder["warning"]) == sorted(network.below("T1"))
