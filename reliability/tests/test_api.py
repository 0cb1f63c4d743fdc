"""The staff endpoints under /api/v1/reliability/: permissions, answers, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reliability import services
from reliability.models import FrequentOutageAlert, FrequentOutagePolicy
from reliability.tests.conftest import days_ago, past_outage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rolling_period(db):
    FrequentOutagePolicy.objects.filter(is_active=True).update(period="rolling_365")


@pytest.fixture
def alerts(network):
    for n in (50, 40, 30, 20):
        past_outage(network, "T1", days_ago(n))  # frequent (4 in 60 days)
    for n in (25, 10):
        past_outage(network, "T3", days_ago(n))  # warning (2 in 30 days)
    services.frequent_outage_scan_now()
    return network


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reliability/alerts",
        "/api/v1/reliability/aggregates",
        "/api/v1/reliability/indices",
    ],
)
def test_staff_only(api_client, outsider, url):
    assert api_client.get(url).status_code in (401, 403)
    api_client.force_authenticate(outsider)
    assert api_client.get(url).status_code == 403


def test_alert_list_unacknowledged_frequent_first(
    api_client, dispatcher, alerts, django_assert_max_num_queries
):
    api_client.force_authenticate(dispatcher)
    with django_assert_max_num_queries(6):
        body = api_client.get("/api/v1/reliability/alerts").json()
    assert body["unacknowledged"] == 6
    levels = [a["level"] for a in body["results"]]
    assert levels == ["frequent"] * 3 + ["warning"] * 3
    first = body["results"][0]
    assert first["service_point"]["transformer"] == "T1"
    assert first["reasons"]
    # acknowledging moves an alert behind the unacknowledged ones
    reply = api_client.post(
        f"/api/v1/reliability/alerts/{first['id']}/acknowledge", {"note": "安排巡视"}, format="json"
    )
    assert reply.status_code == 200
    assert reply.json()["acknowledged_by"] == dispatcher.username
    body = api_client.get("/api/v1/reliability/alerts").json()
    assert body["unacknowledged"] == 5
    assert body["results"][-1]["id"] == first["id"]


def test_agent_reads_but_cannot_acknowledge(api_client, hotline_agent, alerts):
    api_client.force_authenticate(hotline_agent)
    alert = FrequentOutageAlert.objects.first()
    assert api_client.get("/api/v1/reliability/alerts").status_code == 200
    reply = api_client.post(f"/api/v1/reliability/alerts/{alert.pk}/acknowledge", {}, format="json")
    assert reply.status_code == 403


def test_customer_status(api_client, hotline_agent, alerts):
    api_client.force_authenticate(hotline_agent)
    sp = sorted(alerts.below("T1"))[0]
    body = api_client.get(f"/api/v1/reliability/customers/{sp}").json()
    assert body["level"] == "frequent"
    assert body["count"] == 4
    missing = api_client.get("/api/v1/reliability/customers/999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_aggregates(api_client, supervisor, alerts):
    api_client.force_authenticate(supervisor)
    body = api_client.get("/api/v1/reliability/aggregates?by=transformer").json()
    rows = {r["name"]: r for r in body["results"]}
    assert rows["T1"]["frequent"] == 3
    assert rows["T3"]["warning"] == 3
    bad = api_client.get("/api/v1/reliability/aggregates?by=planet")
    assert bad.status_code == 400
    assert "by" in bad.json()["error"]["fields"]


def test_indices_from_stored_days(api_client, supervisor, network, django_assert_max_num_queries):
    day = timezone.localdate() - timedelta(days=2)
    past_outage(network, "B", days_ago(2), minutes=90)
    services.reliability_daily_compute(day=day)
    api_client.force_authenticate(supervisor)
    with django_assert_max_num_queries(3):
        body = api_client.get(
            f"/api/v1/reliability/indices?date_from={day.isoformat()}&date_to={day.isoformat()}"
        ).json()
    [city] = body["results"]
    assert city["SAIFI"] == pytest.approx(1.0)
    assert city["SAIDI"] == pytest.approx(90.0)
    assert city["CAIDI"] == pytest.approx(90.0)
    bad = api_client.get("/api/v1/reliability/indices?date_from=2026-02-01&date_to=2026-01-01")
    assert bad.status_code == 400


def test_planned_preview_endpoint(api_client, dispatcher, network):
    from outages import services as outage_services
    from outages.tests.factories import outage_type

    for n in (40, 20):
        past_outage(network, "T3", days_ago(n))
    start = timezone.now() + timedelta(days=8)
    planned = outage_services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[network["S2"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="计划检修",
        actor=None,
    )
    api_client.force_authenticate(dispatcher)
    body = api_client.get(f"/api/v1/reliability/planned-preview/{planned.pk}").json()
    assert body["into_warning"] == 3
    assert api_client.get("/api/v1/reliability/planned-preview/999999").status_code == 404


def test_customer_indices_give_caifi_and_cemi(api_client, supervisor, network):
    # T1's customers out twice (once inside a feeder outage), everyone else once
    day = timezone.localdate() - timedelta(days=2)
    past_outage(network, "B", days_ago(2, 8), minutes=90)
    past_outage(network, "T1", days_ago(2, 9), minutes=30)  # nested in the feeder outage
    past_outage(network, "T1", days_ago(2, 14), minutes=60)
    api_client.force_authenticate(supervisor)
    body = api_client.get(
        f"/api/v1/reliability/indices/customers?date_from={day}&date_to={day}"
    ).json()
    assert body["customers_served"] == 11
    assert body["SAIFI"] == pytest.approx(14 / 11, abs=1e-6)
    assert body["CAIFI"] == pytest.approx(14 / 11, abs=1e-6)
    assert body["CEMI"]["1"] == pytest.approx(3 / 11, abs=1e-6)
    assert body["CEMI"]["2"] == 0
    feeder = api_client.get(
        f"/api/v1/reliability/indices/customers?date_from={day}&date_to={day}"
        f"&scope=feeder&id={network['B'].feeder_id}&split=planned"
    ).json()
    assert feeder["SAIFI"] == 0
