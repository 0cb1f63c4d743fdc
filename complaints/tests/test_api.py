"""The complaints API contract: 201 shape, 400 naming the field, permissions (outsider
included), similar customers, bulletin downloads."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from complaints.models import Complaint
from complaints.tests.factories import force_status, make_complaint
from complaints.tests.helpers import past_outage

pytestmark = pytest.mark.django_db
URL = "/api/v1/complaints"


def body(sp, **extra):
    return {
        "account_no": sp.account_no,
        "category": "outage_long",
        "channel": "hotline",
        "text": "停电太久",
        "phone": "13800000000",
        **extra,
    }


def test_create_answers_the_contract(api_client, hotline_agent, network, sp):
    outage = past_outage(network, started_ago=timedelta(hours=6))
    api_client.force_authenticate(hotline_agent)
    resp = api_client.post(URL, body(sp), format="json")
    assert resp.status_code == 201, resp.json()
    data = resp.json()
    assert {
        "id",
        "reference",
        "category",
        "status",
        "contact_due",
        "reply_due",
        "flags",
        "links",
    } <= set(data)
    assert data["category"] == "outage_long"
    assert data["status"] == "registered"
    assert set(data["links"]) == {"outages", "work_orders", "reports"}
    assert data["links"]["outages"] == [outage.pk]
    assert isinstance(data["flags"], list)
    c = Complaint.objects.get(pk=data["id"])
    assert c.reference == data["reference"]
    assert c.created_by == hotline_agent
    assert data["reply_due"].endswith("+08:00")


def test_create_by_service_point_id(api_client, dispatcher, sp):
    api_client.force_authenticate(dispatcher)
    payload = body(sp)
    del payload["account_no"]
    payload["service_point"] = sp.pk
    resp = api_client.post(URL, payload, format="json")
    assert resp.status_code == 201
    assert resp.json()["service_point"] == sp.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "no_such_category"}, "category"),
        ({"account_no": "0000000000"}, "account_no"),
        ({"account_no": "", "service_point": 999999}, "service_point"),
        ({"account_no": ""}, "account_no"),
        ({"channel": "pigeon"}, "channel"),
        ({"text": ""}, "text"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_client, hotline_agent, sp, change, field):
    api_client.force_authenticate(hotline_agent)
    payload = dict({**body(sp), **change}.items())
    resp = api_client.post(URL, payload, format="json")
    assert resp.status_code == 400
    assert field in resp.json()["error"]["fields"]
    assert not Complaint.objects.exists()


def test_anonymous_and_outsider_are_refused(api_client, outsider, crew_user, sp):
    assert api_client.post(URL, body(sp), format="json").status_code in (401, 403)
    for user in (outsider, crew_user):
        api_client.force_authenticate(user)
        assert api_client.post(URL, body(sp), format="json").status_code == 403
        assert api_client.get(f"{URL}/bulletin?from=2026-12-01&to=2026-12-10").status_code == 403
    assert not Complaint.objects.exists()


def test_agents_register_but_only_investigators_move_complaints(
    api_client, hotline_agent, dispatcher, outsider, sp
):
    c = make_complaint(sp)
    url = f"{URL}/{c.pk}/transition"
    for user in (hotline_agent, outsider):
        api_client.force_authenticate(user)
        assert api_client.post(url, {"to": "contacted"}, format="json").status_code == 403
    api_client.force_authenticate(dispatcher)
    resp = api_client.post(url, {"to": "contacted"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["status"] == "contacted"
    resp = api_client.post(url, {"to": "closed"}, format="json")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "transition_not_allowed"


def test_stale_version_is_a_409(api_client, dispatcher, sp):
    c = make_complaint(sp)
    api_client.force_authenticate(dispatcher)
    url = f"{URL}/{c.pk}/transition"
    assert api_client.post(url, {"to": "contacted", "version": 1}, format="json").status_code == 200
    resp = api_client.post(url, {"to": "investigating", "version": 1}, format="json")
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "concurrent_update"


def test_close_via_api_after_trace_and_accountability(api_client, supervisor, sp):
    c = force_status(make_complaint(sp), "replied")
    api_client.force_authenticate(supervisor)
    url = f"{URL}/{c.pk}"
    assert api_client.post(f"{url}/transition", {"to": "closed"}, format="json").status_code == 400
    assert api_client.get(f"{url}/trace").status_code == 200
    assert api_client.post(f"{url}/trace", {"step": "travel"}, format="json").status_code == 200
    acc = {"nature": "shared", "unit": "抢修班", "manager": "李四", "outcome": "reminder"}
    resp = api_client.post(f"{url}/accountability", acc, format="json")
    assert resp.status_code == 200
    assert resp.json()["held_against"] == "李四"
    resp = api_client.post(f"{url}/transition", {"to": "closed"}, format="json")
    assert resp.status_code == 200
    assert resp.json()["status"] == "closed"


def test_similar_answers_sorted_within_radius(api_client, dispatcher, network, sp):
    past_outage(network, "S1", started_ago=timedelta(days=1), lasted=timedelta(hours=3))
    c = make_complaint(sp)
    api_client.force_authenticate(dispatcher)
    resp = api_client.get(f"{URL}/{c.pk}/similar?radius=2&limit=5")
    assert resp.status_code == 200
    data = resp.json()
    assert data["radius"] == 2
    distances = [r["distance"] for r in data["results"]]
    assert distances == sorted(distances)
    assert all(d <= 2 for d in distances)
    assert 0 < len(data["results"]) <= 5
    first = data["results"][0]
    assert {"service_point", "account_no", "distance", "features"} <= set(first)
    assert "interruptions_90d" in first["features"]
    assert api_client.get(f"{URL}/{c.pk}/similar?radius=-1").status_code == 400
    # The remedy list takes them in
    resp = api_client.post(f"{URL}/{c.pk}/remedy-list", {"radius": 2, "limit": 5}, format="json")
    assert resp.json()["added"] == len(data["results"])


def test_bulletin_json_csv_and_xlsx(api_client, supervisor, network, sp):
    make_complaint(sp)
    make_complaint(sp)
    today = timezone.localdate().isoformat()
    api_client.force_authenticate(supervisor)
    q = f"{URL}/bulletin?from={today}&to={today}"
    data = api_client.get(q).json()
    assert data["total"] == 2
    assert data["repeat"] == 1
    assert data["by_category"] == [{"code": "outage", "name": "停电及复电", "count": 2}]
    resp = api_client.get(q + "&format=csv")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert ["总体", "投诉总数", "2"] in rows
    resp = api_client.get(q + "&format=xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.content)).active
    values = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert ("总体", "重复投诉", 1) in values
    bad = api_client.get(f"{URL}/bulletin?from=2026-12-10&to=2026-12-01")
    assert bad.status_code == 400
    assert "from" in bad.json()["error"]["fields"]
    assert api_client.get(f"{URL}/bulletin?to=2026-12-01").json()["error"]["fields"].keys() == {
        "from"
    }


def test_categories_and_customer_risk(api_client, hotline_agent, network):
    api_client.force_authenticate(hotline_agent)
    cats = api_client.get(f"{URL}/categories").json()
    assert {"outage", "outage_long"} <= {c["code"] for c in cats["results"]}
    important = network.sps["T4"][0]
    risk = api_client.get(f"{URL}/risk?service_point={important.pk}").json()
    assert risk["risk"] == "medium"
    assert risk["flags"][0]["code"] == "important"
    assert api_client.get(f"{URL}/risk?service_point=999999").status_code == 404


def test_schema_lists_the_contract(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/v1/complaints" in schema["paths"]
    assert "/api/v1/complaints/{complaint_id}/similar" in schema["paths"]
    assert "/api/v1/complaints/bulletin" in schema["paths"]


def test_idempotency_key_replays_the_first_answer(api_client, hotline_agent, dispatcher, sp):
    api_client.force_authenticate(hotline_agent)
    first = api_client.post(URL, body(sp), format="json", HTTP_IDEMPOTENCY_KEY="call-42")
    again = api_client.post(URL, body(sp), format="json", HTTP_IDEMPOTENCY_KEY="call-42")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Complaint.objects.count() == 1
    # Another user's same key is another request
    api_client.force_authenticate(dispatcher)
    other = api_client.post(URL, body(sp), format="json", HTTP_IDEMPOTENCY_KEY="call-42")
    assert other.status_code == 201
    bad = api_client.post(URL, body(sp), format="json", HTTP_IDEMPOTENCY_KEY="x" * 65)
    assert bad.status_code == 400
    assert "Idempotency-Key" in bad.json()["error"]["fields"]


def test_console_attention_lists_open_complaints_by_risk(api_client, dispatcher, network):
    low = make_complaint(network.sps["T1"][0])
    high = make_complaint(network.sps["T4"][0])
    make_complaint(network.sps["T4"][0])
    api_client.force_authenticate(dispatcher)
    rows = api_client.get(f"{URL}/attention").json()["results"]
    assert rows[0]["risk"] == "high"
    assert [r["id"] for r in rows][-1] == low.pk
    assert high.pk in [r["id"] for r in rows]
