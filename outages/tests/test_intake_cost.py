"""What a public report costs per call, and the per-process copies that keep it low: the
premise and its interruptions in one statement, a merged call's answer kept per outage
version (crew up to 2 s old, taxonomy names up to 10 s old), exactly as fresh otherwise."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outages import services
from outages.api import public as public_api
from outages.models import Outage
from outages.providers import public_crew
from outages.selectors import intake as intake_selectors
from outages.tests.test_public_api import _declare

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/public/reports"


@pytest.fixture
def clock(monkeypatch):
    """The monotonic clock of the per-process copies, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(intake_selectors.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def crew_calls():
    calls = []

    def crew(outage_id):
        calls.append(outage_id)
        return {"status": "on_site", "lat": 22.5 + len(calls) / 10, "lng": 114.05}

    public_crew.register(crew)
    yield calls
    public_crew.unregister(crew)


def _post(client, n, **location):
    body = {"symptom": "no_power", "phone": "13800138000", **location}
    return client.post(REPORTS, body, format="json", HTTP_IDEMPOTENCY_KEY=f"cost-{n}")


def _statements(client, n, **location):
    """The response and the SQL statements of one report (savepoints of the test's
    transaction left out: served, the insert autocommits)."""
    with CaptureQueriesContext(connection) as queries:
        response = _post(client, n, **location)
    assert response.status_code == 201, response.json()
    sql = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    return response.json(), sql


def _fresh_outage_answer(outage_id):
    """What ``public_outage`` answers from the database, nothing kept."""
    outage = Outage.objects.select_related("type__category", "cause").get(pk=outage_id)
    return public_api.public_outage(outage)


def test_every_kind_of_report_costs_two_statements(network, api_client):
    sp = network.sps["T3"][0]
    kinds = {
        "account": {"account_no": sp.account_no},
        "address": {"address": sp.address},
        "coordinates": {"lat": sp.lat, "lng": sp.lng},
    }
    for n, (kind, location) in enumerate(kinds.items()):
        data, sql = _statements(api_client, n, **location)
        # Then the premise with its interruptions, and the insert: nothing else
        assert data["status"] == "pending", kind
        assert len(sql) == 2, (kind, sql)
        assert sql[1].startswith("INSERT"), kind


def test_a_merged_call_costs_two_statements_once_its_outage_is_known(
    network, api_client, crew_calls
):
    outage = _declare(network, "S1")
    sps = network.sps["T1"]
    first, _sql = _statements(api_client, 1, account_no=sps[0].account_no)
    # When another caller of the same outage reports
    data, sql = _statements(api_client, 2, account_no=sps[1].account_no)
    # Then two statements, and the answer is the one read fresh from the database
    assert data["status"] == "merged"
    assert len(sql) == 2, sql
    fresh = _fresh_outage_answer(outage.pk)
    assert {**data["outage"], "crew": None} == {**fresh, "crew": None}
    assert data["outage"] == first["outage"]
    assert data["outage"]["crew"]["status"] == "on_site"
    assert data["outage"]["id"] == outage.pk
    assert data["outage"]["cause"] == "tree"


def test_a_change_of_the_outage_shows_in_the_next_answer(network, api_client, clock):
    outage = _declare(network, "S1")
    sps = network.sps["T1"]
    _post(api_client, 1, account_no=sps[0].account_no)
    # When the dispatcher moves the outage on and changes its ETR (each bumps the version)
    outage = services.outage_transition(outage=outage, to=Outage.Status.CREW_DISPATCHED, actor=None)
    etr = timezone.now() + timedelta(hours=5)
    services.outage_set_etr(outage=outage, etr=etr, actor=None)
    data = _post(api_client, 2, account_no=sps[1].account_no).json()
    # Then the next caller is told at once, without waiting for any copy to expire
    assert data["outage"]["status"] == "crew_dispatched"
    assert [p["status"] for p in data["outage"]["progress"]] == ["confirmed", "crew_dispatched"]
    assert data["outage"]["etr"] == timezone.localtime(etr).isoformat()
    assert data["outage"] == _fresh_outage_answer(outage.pk)


def test_the_crew_shown_is_at_most_two_seconds_old(network, api_client, clock, crew_calls):
    _declare(network, "S1")
    sps = network.sps["T1"]
    first = _post(api_client, 1, account_no=sps[0].account_no).json()["outage"]["crew"]
    clock[0] += intake_selectors.CREW_MAX_AGE - 0.1
    same = _post(api_client, 2, account_no=sps[1].account_no).json()["outage"]["crew"]
    assert same == first
    assert len(crew_calls) == 1
    # When more than two seconds have passed
    clock[0] += 0.2
    later = _post(api_client, 3, account_no=sps[0].account_no).json()["outage"]["crew"]
    # Then the crew is asked again
    assert len(crew_calls) == 2
    assert later != first


def test_taxonomy_names_are_at_most_ten_seconds_old(network, api_client, clock):
    outage = _declare(network, "S1")
    sps = network.sps["T1"]
    assert _post(api_client, 1, account_no=sps[0].account_no).json()["outage"]["cause"] == "tree"
    cause = outage.cause
    cause.name = "树障"
    cause.save()
    # Within ten seconds the old name may still show ...
    clock[0] += intake_selectors.TAXONOMY_MAX_AGE - 0.1
    old = _post(api_client, 2, account_no=sps[1].account_no).json()["outage"]["cause"]
    assert old == "tree"
    # ... never after
    clock[0] += 0.2
    new = _post(api_client, 3, account_no=sps[0].account_no).json()["outage"]["cause"]
    assert new == "树障"


def test_a_premise_beyond_the_nearest_radius_is_not_taken(network, api_client):
    sp = network.sps["T3"][0]
    # 0.01 degrees of latitude is about 1.1 km, beyond OUTAGE_INTAKE_NEAREST_METERS
    data = _post(api_client, 1, lat=sp.lat + 0.01, lng=sp.lng).json()
    assert data["status"] == "needs_resolution"
