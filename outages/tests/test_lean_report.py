"""The public report's lean path: an anonymous caller's plainly valid JSON report is filed
without DRF's request and renderer, and answered exactly as DRF answers it; everything else
(staff sessions, bad bodies, odd formats, domain errors) is DRF's."""

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from dispatch_center.core import roles
from outages.api import public as public_api
from outages.models import Outage, TroubleReport
from outages.tests.test_public_api import _declare

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/public/reports"


@pytest.fixture
def lean_calls(monkeypatch):
    """Which requests the lean path took (a body) or left to DRF (None)."""
    taken = []
    real = public_api._lean_report_body

    def spy(request):
        body = real(request)
        taken.append(body is not None)
        return body

    monkeypatch.setattr(public_api, "_lean_report_body", spy)
    return taken


def _without_reference(response):
    """The answer with what differs between two reports (their reference and time) blanked."""
    data = json.loads(response.content)
    reference = data.pop("reference")
    data.pop("received_at")
    data["message"] = data["message"].replace(reference, "R")
    return data


def test_the_lean_answer_is_drfs_answer(network, api_client, lean_calls):
    _declare(network, "S1")
    merged = network.sps["T1"]
    sp = network.sps["T3"][0]
    locations = [
        {"account_no": merged[0].account_no},
        {"account_no": merged[1].account_no, "description": "整条街都黑了\u2028"},
        {"address": sp.address},
        {"lat": sp.lat, "lng": sp.lng},
    ]
    for n, location in enumerate(locations):
        body = {"symptom": "no_power", "phone": "13800138000", **location}
        lean = api_client.post(REPORTS, body, format="json", HTTP_IDEMPOTENCY_KEY=f"lean-{n}")
        # A query string sends the same body through DRF
        drf = api_client.post(
            f"{REPORTS}?format=json", body, format="json", HTTP_IDEMPOTENCY_KEY=f"drf-{n}"
        )
        assert lean_calls[-2:] == [True, False]
        assert lean.status_code == drf.status_code == 201
        assert _without_reference(lean) == _without_reference(drf)
        for header in ("Content-Type", "Allow"):
            assert lean[header] == drf[header], header
        assert set(lean["Vary"].split(", ")) == set(drf["Vary"].split(", "))
    assert TroubleReport.objects.count() == 2 * len(locations)
    assert TroubleReport.objects.filter(outage__status=Outage.Status.CONFIRMED).count() == 4


def test_a_replay_with_the_same_key_answers_the_first_report(network, api_client, lean_calls):
    body = {"symptom": "no_power", "phone": "13800138000", "address": network.sps["T3"][0].address}
    first = api_client.post(REPORTS, body, format="json", HTTP_IDEMPOTENCY_KEY="again")
    second = api_client.post(REPORTS, body, format="json", HTTP_IDEMPOTENCY_KEY="again")
    assert lean_calls == [True, True]
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["reference"] == second.json()["reference"]
    assert TroubleReport.objects.count() == 1


def test_domain_errors_are_answered_by_drf(network, api_client, lean_calls):
    sp = network.sps["T3"][0]
    body = {"symptom": "no_power", "phone": "13800138000", "address": sp.address}
    assert api_client.post(REPORTS, body, format="json", HTTP_IDEMPOTENCY_KEY="k1").status_code
    # The same key with another body: the lean path leaves it, DRF answers 422
    other = {**body, "description": "another"}
    reused = api_client.post(REPORTS, other, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"]
    # Coordinates outside the service area: 400 with the fields named
    far = {"symptom": "no_power", "phone": "13800138000", "lat": 39.9, "lng": 116.4}
    outside = api_client.post(REPORTS, far, format="json")
    assert outside.status_code == 400
    assert outside.json()["error"]["code"] == "outside_service_area"
    assert TroubleReport.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ({"symptom": "no_power", "phone": "1"}, {}),  # invalid: the serializer's errors
        ({"symptom": "no_power", "phone": "13800138000", "channel": "hotline"}, {}),
        (
            {"symptom": "no_power", "phone": "13800138000", "address": "x"},
            {"HTTP_ACCEPT": "text/html"},
        ),
        (
            {"symptom": "no_power", "phone": "13800138000", "address": "x"},
            {"HTTP_IDEMPOTENCY_KEY": "é"},
        ),
    ],
)
def test_anything_not_plain_goes_through_drf(network, api_client, lean_calls, body, extra):
    response = api_client.post(REPORTS, body, format="json", **extra)
    assert lean_calls == [False]
    assert response.status_code in (400, 406)
    assert TroubleReport.objects.count() == 0


def test_a_staff_session_goes_through_drf_and_may_set_the_channel(network, lean_calls):
    agent = User.objects.create_user("agent-lean", password="x")
    agent.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    client = APIClient(enforce_csrf_checks=False)
    client.login(username="agent-lean", password="x")
    body = {
        "symptom": "no_power",
        "phone": "13800138000",
        "channel": "hotline",
        "address": network.sps["T3"][0].address,
    }
    response = client.post(REPORTS, body, format="json")
    assert lean_calls == [False]
    assert response.status_code == 201
    assert TroubleReport.objects.get().channel == "hotline"
    assert TroubleReport.objects.get().created_by == agent


def test_the_lean_path_is_throttled(network, lean_calls):
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    cache.delete("throttle:public:198.51.100.9")
    rates = {"public": "3/min"}
    body = {"symptom": "no_power", "phone": "13800138000", "address": "福田区某路1号"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        statuses = [client.post(REPORTS, body, format="json").status_code for _ in range(4)]
    # The fourth is refused by the lean path's throttle check, then answered by DRF's
    assert lean_calls[:3] == [True, True, True]
    assert statuses == [201, 201, 201, 429]
    assert TroubleReport.objects.count() == 3
