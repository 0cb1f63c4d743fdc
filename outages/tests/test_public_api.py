"""The public API of the contract (lookup, report, report status) and the staff intake API."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from outages import services
from outages.api import public as public_api
from outages.models import Outage, TroubleReport
from outages.providers import public_crew
from outages.tests.factories import outage_cause, outage_type

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/public/lookup"
REPORTS = "/api/v1/public/reports"
OUTAGE_KEYS = {
    "id",
    "category",
    "type",
    "status",
    "cause",
    "started_at",
    "etr",
    "customers_affected",
    "progress",
    "crew",
}
MATCH_KEYS = {"address", "district", "lat", "lng", "outage", "planned"}
REPORT_KEYS = {"reference", "status", "outage", "message"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached answers of earlier tests must not leak in (their outages were rolled back).
    public_api.bump_public_version()


def _declare(net, code, **kwargs):
    outage = services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net[code],
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
        etr=timezone.now() + timedelta(hours=2),
        **kwargs,
    )
    return services.outage_set_cause(outage=outage, cause=outage_cause("tree"), actor=None)


def _report(client, body=None, key=None, **extra):
    payload = {"symptom": "no_power", "phone": "13800138000", "address": "火星基地"}
    payload.update(body or {})
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(REPORTS, payload, format="json", **headers, **extra)


def _assert_error_shape(response, status):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def _no_personal_data(payload, service_points):
    text = json.dumps(payload, ensure_ascii=False)
    for sp in service_points:
        for secret in (sp.customer_name, sp.phone, sp.account_no):
            assert secret not in text, f"{secret!r} leaked into {text}"
    for key in ("customer_name", "phone", "account_no", "contact_phone", "contact_name"):
        assert f'"{key}"' not in text


# --- reports --------------------------------------------------------------------------------


def test_report_into_a_known_outage_answers_with_it(network, api_client):
    outage = _declare(network, "S1")
    sp = network.sps["T1"][0]
    response = _report(api_client, {"address": None, "account_no": sp.account_no}, key="a-1")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert set(data) >= REPORT_KEYS
    assert data["status"] == "merged"
    assert set(data["outage"]) >= OUTAGE_KEYS
    assert data["outage"]["id"] == outage.pk
    assert data["outage"]["category"] == "fault"
    assert data["outage"]["cause"] == "tree"
    assert data["outage"]["etr"] is not None
    assert data["outage"]["progress"][0]["status"] == "confirmed"
    assert "已在处理中" in data["message"]
    assert data["reference"] in data["message"]
    _no_personal_data(data, network.sps["T1"])


def test_replay_returns_the_first_answer_and_another_body_is_refused(network, api_client):
    body = {"address": None, "account_no": network.sps["T3"][0].account_no}
    first = _report(api_client, body, key="b-1")
    again = _report(api_client, body, key="b-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["reference"] == first.json()["reference"]
    assert TroubleReport.objects.count() == 1
    other = _report(api_client, {**body, "symptom": "flicker"}, key="b-1")
    error = _assert_error_shape(other, 422)
    assert error["code"] == "idempotency_key_reused"
    assert TroubleReport.objects.count() == 1


def test_unresolvable_address_is_kept_and_the_caller_told(network, api_client):
    response = _report(api_client, {"address": "某个不存在的地址"})
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "needs_resolution"
    assert data["outage"] is None
    assert "客服人员" in data["message"]
    assert TroubleReport.objects.get(reference=data["reference"]).raw_address == "某个不存在的地址"


def test_english_message_for_an_english_client(network, api_client):
    response = _report(api_client, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 201
    assert "agent will contact you" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"symptom": "smoke"}, {"symptom"}),
        ({"phone": "12345"}, {"phone"}),
        ({"phone": None}, {"phone"}),
        ({"address": ""}, {"location"}),
        ({"account_no": "030000000001"}, {"location"}),  # two ways to locate
        ({"address": None, "lat": 22.54}, {"lat", "lng"}),
        ({"address": None, "lat": 95, "lng": 114.0}, {"lat"}),
        ({"channel": "scada"}, {"channel"}),
        ({"channel": "hotline"}, {"channel"}),  # staff only
        ({"description": "x" * 1001}, {"description"}),
    ],
)
def test_bad_reports_get_field_errors(network, api_client, body, fields):
    error = _assert_error_shape(_report(api_client, body), 400)
    assert set(error["fields"]) == fields
    assert not TroubleReport.objects.exists()


def test_coordinates_outside_shenzhen_are_refused(network, api_client):
    error = _assert_error_shape(
        _report(api_client, {"address": None, "lat": 23.13, "lng": 113.26}), 400
    )
    assert error["code"] == "outside_service_area"
    assert set(error["fields"]) == {"lat", "lng"}


def test_bad_idempotency_key_is_a_field_error(network, api_client):
    error = _assert_error_shape(_report(api_client, key="has space"), 400)
    assert "Idempotency-Key" in error["fields"]


def test_malformed_json_is_a_400_not_a_500(api_client, db):
    response = api_client.post(REPORTS, "{not json", content_type="application/json")
    _assert_error_shape(response, 400)


def test_anonymous_posts_need_no_csrf_but_sessions_do(network, hotline_agent):
    client = APIClient(enforce_csrf_checks=True)
    # An anonymous visitor (map page, mini-program) posts without a CSRF check
    assert _report(client).status_code == 201
    # A logged-in agent's session must send the token
    client.force_login(hotline_agent)
    refused = _report(client, {"channel": "hotline"})
    _assert_error_shape(refused, 403)
    client.get("/map/")  # sets the CSRF cookie, as the map page does
    token = client.cookies["csrftoken"].value
    accepted = _report(client, {"channel": "hotline"}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert TroubleReport.objects.get(reference=accepted.json()["reference"]).channel == "hotline"


def test_report_status_by_reference(network, api_client):
    outage = _declare(network, "S2")
    sp = network.sps["T3"][2]
    reference = _report(api_client, {"address": None, "account_no": sp.account_no}).json()[
        "reference"
    ]
    response = api_client.get(f"{REPORTS}/{reference}")
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= REPORT_KEYS
    assert data["outage"]["id"] == outage.pk
    assert set(data["outage"]) >= OUTAGE_KEYS
    _no_personal_data(data, [sp])


def test_unknown_reference_is_404_in_the_contract_shape(api_client, db):
    for reference in ("R20990101-ZZZZZZ", "R%3Cscript%3E", "x" * 40):
        error = _assert_error_shape(api_client.get(f"{REPORTS}/{reference}"), 404)
        assert error["code"] == "not_found"


def test_reports_are_rate_limited(network, monkeypatch):
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    cache.delete("throttle:public:198.51.100.7")
    rates = {"public": "3/min"}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [_report(client).status_code for _ in range(4)]
        lookup = client.get(LOOKUP, {"q": "华强北路"})
        other = APIClient(REMOTE_ADDR="198.51.100.8").get(LOOKUP, {"q": "华强北路"})
    assert statuses == [201, 201, 201, 429]
    error = _assert_error_shape(lookup, 429)
    assert error["code"] == "throttled"
    # A sliding window: the first request leaves it a minute after it was accepted
    assert 50 <= int(lookup.headers["Retry-After"]) <= 60
    # Another address is not affected
    assert other.status_code == 200
    assert TroubleReport.objects.count() == 3


def _rest_framework():
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


# --- lookup ---------------------------------------------------------------------------------


def test_lookup_by_address_answers_the_contract_shape(network, api_client):
    outage = _declare(network, "FU")
    services.outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=3), actor=None)
    sp = network.sps["T4"][1]
    start = timezone.now() + timedelta(days=3)
    planned = services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[network["FU"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="线路检修",
        actor=None,
        override_reason="test",
    )
    services.planned_outage_publish_notice(outage=planned, actor=None)

    def crew(outage_id):
        return {"status": "on_site", "lat": 22.545678, "lng": 114.045678, "name": "张师傅"}

    public_crew.register(crew)
    try:
        response = api_client.get(LOOKUP, {"q": sp.address})
    finally:
        public_crew.unregister(crew)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"matches"}
    (match,) = data["matches"]
    assert set(match) == MATCH_KEYS
    assert match["address"] == sp.address
    assert match["district"] == "福田区"
    assert set(match["outage"]) >= OUTAGE_KEYS
    assert match["outage"]["id"] == outage.pk
    assert match["outage"]["customers_affected"] == 2
    assert match["outage"]["crew"] == {"status": "on_site", "lat": 22.55, "lng": 114.05}
    assert [p["status"] for p in match["outage"]["progress"]] == ["confirmed"]
    assert match["planned"] == [
        {
            "id": planned.pk,
            "starts_at": timezone.localtime(planned.planned_start_at).isoformat(),
            "ends_at": timezone.localtime(planned.planned_end_at).isoformat(),
            "reason": "线路检修",
        }
    ]
    _no_personal_data(data, network.sps["T4"])
    assert "张师傅" not in json.dumps(data, ensure_ascii=False)


def test_lookup_by_account_matches_only_that_account(network, api_client):
    sp = network.sps["T3"][0]
    data = api_client.get(LOOKUP, {"q": sp.account_no}).json()
    assert [m["address"] for m in data["matches"]] == [sp.address]
    assert data["matches"][0]["outage"] is None
    _no_personal_data(data, [sp])


def test_lookup_never_finds_a_person_by_phone_or_account_prefix(network, api_client):
    sp = network.sps["T3"][0]
    assert api_client.get(LOOKUP, {"q": sp.phone}).json() == {"matches": []}
    assert api_client.get(LOOKUP, {"q": sp.account_no[:-2]}).json() == {"matches": []}


def test_lookup_with_an_unknown_district_prefix_finds_nothing(network, api_client):
    response = api_client.get(LOOKUP, {"q": "深圳市南山区华强北路150号"})
    assert response.status_code == 200
    assert response.json() == {"matches": []}


def test_lookup_validation_errors(api_client, db):
    for params in ({}, {"q": "x"}, {"q": "x" * 101}):
        error = _assert_error_shape(api_client.get(LOOKUP, params), 400)
        assert set(error["fields"]) == {"q"}


def test_repeated_lookup_is_answered_from_the_cache(
    network, api_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    sp = network.sps["T2"][1]
    first = api_client.get(LOOKUP, {"q": sp.address})
    assert first.json()["matches"][0]["outage"] is None
    # The same query again touches no table
    with django_assert_num_queries(0):
        second = api_client.get(LOOKUP, {"q": sp.address})
    assert second.json() == first.json()
    # Spelled differently (full-width digits, spaces) it is the same normalised query
    with django_assert_num_queries(0):
        api_client.get(LOOKUP, {"q": " " + sp.address.replace("1", "１") + " "})
    # When an outage changes (outage.changed bumps the version), the next answer is fresh
    with django_capture_on_commit_callbacks(execute=True):
        outage = _declare(network, "S1")
    third = api_client.get(LOOKUP, {"q": sp.address}).json()
    assert third["matches"][0]["outage"]["id"] == outage.pk


def test_lookup_answers_in_english(network, api_client):
    _declare(network, "S2")
    data = api_client.get(
        LOOKUP, {"q": network.sps["T3"][0].address}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()
    assert data["matches"][0]["district"] == "Futian"
    assert data["matches"][0]["outage"]["type"] == "10 kV feeder fault"


# --- staff intake ---------------------------------------------------------------------------


def test_agent_records_a_call_for_a_service_point(network, hotline_agent):
    client = APIClient()
    client.force_authenticate(hotline_agent)
    sp = network.sps["T4"][0]
    body = {"service_point": sp.pk, "symptom": "sparks", "phone": "13800138000"}
    response = client.post("/api/v1/reports", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["channel"] == "hotline"
    assert data["service_point"]["id"] == sp.pk
    assert data["status"] == "pending"
    again = client.post("/api/v1/reports", body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert (again.status_code, again.json()["id"]) == (200, data["id"])


def test_agent_lists_and_resolves_reports_needing_resolution(
    network, hotline_agent, django_assert_max_num_queries
):
    outage = _declare(network, "S1")
    anonymous = APIClient()
    for i in range(3):
        _report(anonymous, {"address": f"说不清的地方{i}"})
    client = APIClient()
    client.force_authenticate(hotline_agent)
    with django_assert_max_num_queries(8):
        listing = client.get("/api/v1/reports", {"status": "needs_resolution"})
    assert listing.status_code == 200
    rows = listing.json()["results"]
    assert len(rows) == 3
    assert {r["status"] for r in rows} == {"needs_resolution"}
    # When the agent attaches the premise
    sp = network.sps["T1"][1]
    resolved = client.post(
        f"/api/v1/reports/{rows[0]['id']}/resolve", {"service_point": sp.pk}, format="json"
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "merged"
    assert resolved.json()["outage"]["id"] == outage.pk
    # And resolving it again is a conflict
    again = client.post(
        f"/api/v1/reports/{rows[0]['id']}/resolve", {"service_point": sp.pk}, format="json"
    )
    _assert_error_shape(again, 409)
    missing = client.post(
        f"/api/v1/reports/{rows[1]['id']}/resolve", {"service_point": 10**9}, format="json"
    )
    assert set(_assert_error_shape(missing, 400)["fields"]) == {"service_point"}


@pytest.mark.parametrize("role_user", ["outsider", "crew_user", "scada_gateway"])
def test_staff_intake_refuses_other_roles(network, role_user, request):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(role_user))
    assert client.get("/api/v1/reports").status_code == 403
    body = {"service_point": network.sps["T1"][0].pk, "symptom": "no_power", "phone": "13800138000"}
    assert client.post("/api/v1/reports", body, format="json").status_code == 403


def test_staff_intake_needs_a_login(api_client, db):
    assert api_client.get("/api/v1/reports").status_code in (401, 403)
