"""The error contract under /api/: one JSON shape for every refusal, the same status for the
same mistake on every endpoint, and a schema as strict as the server."""

import io
import json
from unittest import mock

import pytest
import yaml
from django.contrib.auth.models import User
from kombu.exceptions import OperationalError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dispatch_center.core import degraded
from dispatch_center.core.parsers import SafeJSONParser, json_depth_exceeds
from dispatch_center.core.tasks import enqueue_on_commit
from outages.models import TroubleReport

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/public/reports"
REPORT = {"symptom": "no_power", "phone": "13800138000", "address": "火星基地"}


def _error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def _schema(client) -> dict:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.fixture
def superuser_client() -> APIClient:
    user = User.objects.create_superuser("root1", password="pass-for-tests-1")
    client = APIClient()
    client.force_authenticate(user)
    return client


def _concrete(path: str) -> str:
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


# --- bodies --------------------------------------------------------------------------------


def _json_writes(schema: dict) -> list[tuple[str, str]]:
    """(method, path) of every operation of the schema that takes a JSON body."""
    return [
        (method, path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("post", "put", "patch")
        and "application/json" in op.get("requestBody", {}).get("content", {})
    ]


def test_json_nested_1000_deep_is_a_400_on_every_json_endpoint(superuser_client, client):
    from workorders.tests.factories import crew_user, make_crew

    crew_client = APIClient()
    crew_client.force_authenticate(crew_user(make_crew()))
    # Given every operation of the schema that takes a JSON body (about 30)
    schema = _schema(client)
    body = "[" * 1000 + "]" * 1000  # 2 KB
    writes = _json_writes(schema)
    assert len(writes) > 20
    statuses = {}
    # When each gets the nested body, from a user its permission check lets through
    for method, path in writes:
        user_client = crew_client if path.startswith("/api/v1/crew/") else superuser_client
        response = getattr(user_client, method)(
            _concrete(path), data=body, content_type="application/json"
        )
        # Then none fails: a 400 in the contract's shape (or 404 where the view looks the
        # object up before it reads the body: there is no object 1)
        statuses[path] = response.status_code
        _error(response, 404 if response.status_code == 404 else 400)
    refused = [path for path, status in statuses.items() if status == 400]
    assert len(refused) >= len(writes) - 3, statuses


def test_anonymous_nested_json_on_the_public_report_is_a_parse_error(api_client):
    nested = '{"description": ' + "[" * 5000 + "]" * 5000 + "}"
    response = api_client.post(REPORTS, data=nested, content_type="application/json")
    assert _error(response, 400)["code"] == "parse_error"
    deep = "[" * 40 + "]" * 40
    response = api_client.post(REPORTS, data=deep, content_type="application/json")
    assert _error(response, 400)["code"] == "parse_error"
    assert TroubleReport.objects.count() == 0


def test_a_lone_surrogate_is_a_400_on_every_json_endpoint(superuser_client, client):
    from workorders.tests.factories import crew_user, make_crew

    crew_client = APIClient()
    crew_client.force_authenticate(crew_user(make_crew()))
    # Given a body whose string escapes spell half a UTF-16 pair: no character at all, so an
    # error message that echoes it could not be written out as UTF-8
    fields = ("description", "phone", "note", "channel", "kind", "priority", "action", "status")
    body = "{" + ", ".join(f'"{name}": "\\ud800"' for name in fields) + "}"
    schema = _schema(client)
    writes = _json_writes(schema)
    # When every operation with a JSON body gets it
    for method, path in writes:
        user_client = crew_client if path.startswith("/api/v1/crew/") else superuser_client
        response = getattr(user_client, method)(
            _concrete(path), data=body, content_type="application/json"
        )
        # Then none fails: a 400 in the contract's shape (404 where there is no object 1)
        _error(response, 404 if response.status_code == 404 else 400)


def test_a_lone_surrogate_is_refused_but_a_pair_is_kept(api_client):
    lone = '{"phone": "13800138000", "description": "\\ud83d 停电", "lat": 22.5, "lng": 114.0}'
    response = api_client.post(REPORTS, data=lone, content_type="application/json")
    assert _error(response, 400)["code"] == "parse_error"
    assert TroubleReport.objects.count() == 0
    parser = SafeJSONParser()
    pair = '{"description": "\\ud83d\\ude00 停电"}'
    assert parser.parse(io.BytesIO(pair.encode())) == {"description": "\U0001f600 停电"}


def test_depth_scan_ignores_brackets_inside_strings():
    assert not json_depth_exceeds(json.dumps({"description": "[" * 100}), 32)
    assert not json_depth_exceeds(json.dumps({"d": '\\"[[[' * 50}), 32)
    assert json_depth_exceeds("[" * 33 + "]" * 33, 32)
    assert not json_depth_exceeds("[" * 32 + "]" * 32, 32)


def test_oversized_bodies_are_413_in_the_contract_shape(api_client, settings):
    big = json.dumps({**REPORT, "description": "x" * (5 * 1024 * 1024)})
    _error(api_client.post(REPORTS, data=big, content_type="application/json"), 413)
    # Django's own limit on form bodies (read by Django, not DRF) is a 413 too
    settings.API_MAX_BODY_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    form = {**REPORT, "description": "y" * 4096}
    _error(api_client.post(REPORTS, data=form), 413)
    assert TroubleReport.objects.count() == 0


# --- routes, authentication ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/work-orders/abc",
        "/api/v1/outages/abc",
        "/api/v1/reports/1x",
        "/api/v1/nothing-here",
        "/api/v1/crew/orders/%3Cscript%3E/actions",
    ],
)
def test_unknown_api_routes_are_json_404(superuser_client, path):
    assert _error(superuser_client.get(path), 404)["code"] == "not_found"


def test_pages_outside_the_api_keep_html_errors(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_an_invalid_token_is_401_and_no_credentials_403(api_client, dispatcher):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = api_client.get("/api/v1/work-orders")
    assert _error(response, 401)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"
    # The public report endpoint reads tokens too (staff channels)
    _error(api_client.post(REPORTS, REPORT, format="json"), 401)
    assert _error(APIClient().get("/api/v1/work-orders"), 403)["code"] == "not_authenticated"
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION="Token " + Token.objects.create(user=dispatcher).key)
    assert good.get("/api/v1/work-orders").status_code == 200


# --- one answer for one mistake ------------------------------------------------------------


@pytest.mark.parametrize("size", ["0", "501", "-1", "abc", "1.5"])
def test_page_size_out_of_range_is_the_same_400_on_every_list(superuser_client, size):
    lists = ["/api/v1/reports", "/api/v1/work-orders", "/api/v1/outages", "/api/v1/crew/orders"]
    answers = set()
    for path in lists:
        response = superuser_client.get(path, {"page_size": size})
        if path == "/api/v1/crew/orders" and response.status_code == 403:
            continue  # a superuser without a crew: the role check comes first
        error = _error(response, 400)
        assert set(error["fields"]) == {"page_size"}, path
        answers.add((response.status_code, error["code"]))
    assert answers == {(400, "invalid")}
    assert superuser_client.get("/api/v1/reports", {"page_size": "500"}).status_code == 200


def test_reused_idempotency_key_is_422_on_public_and_staff_reports(api_client, hotline_agent):
    headers = {"HTTP_IDEMPOTENCY_KEY": "same-key-1"}
    assert api_client.post(REPORTS, REPORT, format="json", **headers).status_code == 201
    other = {**REPORT, "symptom": "flicker"}
    error = _error(api_client.post(REPORTS, other, format="json", **headers), 422)
    assert error["code"] == "idempotency_key_reused"
    staff = APIClient()
    staff.force_authenticate(hotline_agent)
    assert staff.post("/api/v1/reports", REPORT, format="json", **headers).status_code == 201
    error = _error(staff.post("/api/v1/reports", other, format="json", **headers), 422)
    assert error["code"] == "idempotency_key_reused"


# --- the schema ---------------------------------------------------------------------------


def test_schema_is_as_strict_as_the_server(client):
    schema = _schema(client)
    paths, components = schema["paths"], schema["components"]["schemas"]
    lookup_q = next(
        p for p in paths["/api/v1/public/lookup"]["get"]["parameters"] if p["name"] == "q"
    )
    assert lookup_q["required"] is True
    assert lookup_q["schema"]["minLength"] == 2

    def request_schema(path):
        ref = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return components[ref.rsplit("/", 1)[1]]

    assert request_schema(REPORTS)["properties"]["phone"]["minLength"] == 1
    assert request_schema("/api/v1/reports")["properties"]["phone"]["minLength"] == 1
    unsubscribe = request_schema("/api/v1/public/subscriptions/unsubscribe")
    assert unsubscribe["properties"]["token"]["minLength"] == 1
    # Every staff read documents 401 and 403; every query-taking read documents 400
    for path, item in paths.items():
        for method, op in item.items():
            if not isinstance(op, dict) or path.startswith("/api/v1/public/"):
                continue
            assert {"401", "403"} <= set(op["responses"]), (method, path)
            if any(p["in"] == "query" for p in op.get("parameters", [])):
                assert "400" in op["responses"], (method, path)
            if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", [])):
                assert "422" in op["responses"], (method, path)
                assert "409" not in op["responses"] or path.endswith("/actions")
    assert "400" in paths["/api/v1/work-orders/{order_id}/suggestions"]["get"]["responses"]
    assert "422" in paths[REPORTS]["post"]["responses"]
    crew_orders = paths["/api/v1/crew/orders"]["get"]["parameters"]
    size = next(p for p in crew_orders if p["name"] == "page_size")
    assert (size["schema"]["minimum"], size["schema"]["maximum"]) == (1, 500)


# --- a broker error after the commit --------------------------------------------------------


class _BrokenBroker:
    name = "tests.broken"

    def __init__(self):
        self.calls = 0

    def apply_async(self, args=(), **options):
        self.calls += 1
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")


@pytest.mark.django_db(transaction=True)
def test_broker_error_after_commit_is_logged_once_and_never_raised(caplog):
    degraded.broker_breaker.reset()
    task = _BrokenBroker()
    try:
        with caplog.at_level("WARNING", logger="dispatch_center.degraded"):
            for n in range(5):
                enqueue_on_commit(task, n)  # autocommit: sent at once, must not raise
    finally:
        degraded.broker_breaker.reset()
    # One try, then the breaker skips the broker for REDIS_RETRY_SECONDS; one log line
    assert task.calls == 1
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1


@pytest.mark.django_db(transaction=True)
def test_work_order_committed_while_the_broker_is_down_answers_201(dispatcher):
    # Given a broker that refuses connections
    degraded.broker_breaker.reset()
    client = APIClient()
    client.force_authenticate(dispatcher)
    boom = OperationalError("Error 111 connecting. Connection refused.")
    try:
        with mock.patch("celery.app.task.Task.apply_async", side_effect=boom):
            # When a dispatcher raises an order that is dispatched after commit
            response = client.post(
                "/api/v1/work-orders",
                {"kind": "premise_repair", "title": "断电", "lat": 22.54, "lng": 114.05},
                format="json",
            )
    finally:
        degraded.broker_breaker.reset()
    # Then the order is saved and the answer says so (the sweeper dispatches it later)
    assert response.status_code == 201, response.content
    assert response["X-Tasks-Deferred"] == "1"
    from workorders.models import WorkOrder

    order = WorkOrder.objects.get(pk=response.json()["id"])
    assert order.dispatch_requested_at is not None
