"""The REST API: the crews' app (contract paths) and the dispatcher console endpoints."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.authtoken.models import Token

from grids.models import Crew
from outages import services as outage_services
from outages.models import Outage
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type
from workorders import services
from workorders.models import (
    CrewLocation,
    DispatchDecision,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderPhoto,
)
from workorders.tests.factories import crew_user, force_status, make_crew, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def _action_url(order):
    return f"/api/v1/crew/orders/{order.pk}/actions"


def _assigned(crew):
    order = make_order()
    services.work_order_assign(order=order, crew=crew, actor=None)
    order.refresh_from_db()
    return order


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- crew app: reads ---------------------------------------------------------------------------


def test_crew_sees_only_its_own_orders(crew_client, crew, django_assert_max_num_queries):
    mine = [_assigned(crew) for _ in range(3)]
    other = _assigned(make_crew(dlat=0.05))
    with django_assert_max_num_queries(8):
        response = crew_client.get("/api/v1/crew/orders")
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["results"]]
    assert sorted(ids) == sorted(o.pk for o in mine)
    assert other.pk not in ids
    first = response.json()["results"][0]
    assert first["actions"] == ["accept", "reject"]
    assert first["crew"]["id"] == crew.pk
    assert "arrive_due_at" in first


def test_crew_order_list_rejects_a_bad_filter(crew_client):
    response = crew_client.get("/api/v1/crew/orders?status=nope")
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["hotline_agent", "outsider", "dispatcher", "crew_user"])
def test_non_crew_users_are_refused_by_the_crew_api(api_client, request, who, crew):
    user = request.getfixturevalue(who)
    api_client.force_authenticate(user)
    order = _assigned(crew)
    assert api_client.get("/api/v1/crew/orders").status_code == 403
    response = api_client.post(_action_url(order), {"action": "accept"}, format="json")
    assert response.status_code == 403
    assert api_client.get("/api/v1/crew/pool").status_code == 403
    assert WorkOrder.objects.get(pk=order.pk).status == S.DISPATCHED


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/crew/orders").status_code in (401, 403)


def test_member_of_another_crew_gets_403(api_client, crew):
    other_crew = make_crew(dlat=0.02)
    api_client.force_authenticate(crew_user(other_crew))
    order = _assigned(crew)
    response = api_client.post(_action_url(order), {"action": "accept"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_order"


# --- crew app: actions ---------------------------------------------------------------------------


def test_the_whole_job_through_the_api(crew_client, crew):
    net = build_network()
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    order = services.work_order_raise_for_outage(outage_id=outage.pk)
    services.work_order_assign(order=order, crew=crew, actor=None)
    url = _action_url(order)
    steps = [
        ({"action": "accept"}, S.ACCEPTED),
        ({"action": "depart", "lat": 22.541, "lng": 114.051}, S.EN_ROUTE),
        ({"action": "arrive"}, S.ON_SITE),
        (
            {"action": "findings", "cause": outage_cause("cable_fault").code, "note": "电缆击穿"},
            S.ON_SITE,
        ),
        ({"action": "restore", "device": net["T1"].code}, S.ON_SITE),
        ({"action": "restore"}, S.ON_SITE),
        ({"action": "complete", "note": "已修复"}, S.COMPLETED),
    ]
    for body, expected in steps:
        response = crew_client.post(url, body, format="json")
        assert response.status_code == 200, (body, response.json())
        assert response.json()["status"] == expected
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.RESTORED
    assert Outage.objects.get(pk=outage.pk).cause.code == "cable_fault"
    assert CrewLocation.objects.filter(crew=crew).count() == 1
    assert Crew.objects.get(pk=crew.pk).status == Crew.Status.AVAILABLE


def test_a_refused_step_answers_409_and_bad_input_400(crew_client, crew):
    order = _assigned(crew)
    response = crew_client.post(_action_url(order), {"action": "complete"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"
    for body, field in [
        ({"action": "fly"}, "action"),
        ({"action": "accept", "lat": 22.5}, "lng"),
        ({"action": "accept", "lat": 222, "lng": 114}, "lat"),
        ({"action": "findings", "cause": "no-such-cause"}, "cause"),
        ({"action": "accept", "device": "X"}, "device"),
        ({"action": "accept", "at": "yesterday"}, "at"),
    ]:
        response = crew_client.post(_action_url(order), body, format="json")
        assert response.status_code == 400, body
        assert field in response.json()["error"]["fields"], (body, response.json())


def test_same_idempotency_key_returns_the_first_answer_and_changes_nothing(crew_client, crew):
    order = _assigned(crew)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-accept-1"}
    first = crew_client.post(_action_url(order), {"action": "accept"}, format="json", **headers)
    again = crew_client.post(_action_url(order), {"action": "accept"}, format="json", **headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert order.events.filter(to_status=S.ACCEPTED).count() == 1
    # The same key for another request is refused; a new key is a new request
    other = crew_client.post(_action_url(order), {"action": "arrive"}, format="json", **headers)
    assert other.status_code == 422  # one answer for a reused key everywhere
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    new = crew_client.post(
        _action_url(order), {"action": "arrive"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert new.status_code == 200
    assert new.json()["status"] == S.ON_SITE


def test_a_failed_action_is_not_stored_under_its_key(crew_client, crew):
    order = _assigned(crew)
    headers = {"HTTP_IDEMPOTENCY_KEY": "k-early"}
    refused = crew_client.post(_action_url(order), {"action": "depart"}, format="json", **headers)
    assert refused.status_code == 409
    crew_client.post(_action_url(order), {"action": "accept"}, format="json")
    retried = crew_client.post(_action_url(order), {"action": "depart"}, format="json", **headers)
    assert retried.status_code == 200
    assert retried.json()["status"] == S.EN_ROUTE


def _on_site(crew):
    return force_status(make_order(), S.ON_SITE, crew=crew)


@pytest.mark.parametrize(
    ("name", "content"), [("a.png", PNG), ("b.jpg", JPEG), ("c.webp", WEBP), ("noext", PNG)]
)
def test_findings_accept_real_images_by_content(crew_client, crew, name, content):
    order = _on_site(crew)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = crew_client.post(
        _action_url(order),
        {"action": "findings", "note": "现场照片", "photos": [upload]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    photo = WorkOrderPhoto.objects.get(order=order)
    assert photo.size == len(content)
    assert photo.image.name.endswith("." + photo.extension)
    event = order.events.get(kind=WorkOrderEvent.Kind.FINDINGS)
    assert event.data["photos"] == [photo.pk]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("fake.jpg", b"GIF89a" + b"\x00" * 64),
        ("evil.png", b"<?php echo 1; ?>"),
        ("empty.webp", b""),
    ],
)
def test_findings_refuse_files_that_are_not_images(crew_client, crew, name, content):
    order = _on_site(crew)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = crew_client.post(
        _action_url(order), {"action": "findings", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 400
    assert any(k.startswith("photos") for k in response.json()["error"]["fields"])
    assert not WorkOrderPhoto.objects.exists()
    assert not order.events.filter(kind=WorkOrderEvent.Kind.FINDINGS).exists()


def test_findings_refuse_a_photo_over_10_mb(crew_client, crew):
    order = _on_site(crew)
    big = io.BytesIO(JPEG + b"\x00" * (10 * 1024 * 1024))
    upload = SimpleUploadedFile("big.jpg", big.getvalue(), content_type="image/jpeg")
    response = crew_client.post(
        _action_url(order), {"action": "findings", "photos": [upload]}, format="multipart"
    )
    assert response.status_code == 400
    assert "photos" in response.json()["error"]["fields"]
    assert not WorkOrderPhoto.objects.exists()


# --- crew app: locations and the pool -------------------------------------------------------------


def test_locations_batch_moves_the_crew_to_the_newest_point_only(crew_client, crew):
    now = timezone.now()
    points = [
        {"at": (now - timedelta(seconds=30)).isoformat(), "lat": 22.55, "lng": 114.06},
        {"at": (now - timedelta(seconds=10)).isoformat(), "lat": 22.56, "lng": 114.07},
    ]
    response = crew_client.post("/api/v1/crew/locations", {"points": points}, format="json")
    assert response.status_code == 200
    assert response.json() == {"stored": 2, "position_updated": True}
    crew.refresh_from_db()
    assert (crew.last_lat, crew.last_lng) == (22.56, 114.07)
    # A late, older batch is stored but does not move the crew back; a resend stores nothing
    older = [{"at": (now - timedelta(minutes=5)).isoformat(), "lat": 22.0, "lng": 114.0}]
    response = crew_client.post("/api/v1/crew/locations", {"points": older}, format="json")
    assert response.json() == {"stored": 1, "position_updated": False}
    response = crew_client.post("/api/v1/crew/locations", {"points": points}, format="json")
    assert response.json() == {"stored": 0, "position_updated": False}
    crew.refresh_from_db()
    assert (crew.last_lat, crew.last_lng) == (22.56, 114.07)


def test_locations_bad_input_answers_400_per_field(crew_client):
    bad = {"points": [{"at": timezone.now().isoformat(), "lat": 95, "lng": 114}]}
    response = crew_client.post("/api/v1/crew/locations", bad, format="json")
    assert response.status_code == 400
    assert "points.0.lat" in response.json()["error"]["fields"]
    assert (
        crew_client.post("/api/v1/crew/locations", {"points": []}, format="json").status_code == 400
    )
    future = {
        "points": [{"at": (timezone.now() + timedelta(hours=1)).isoformat(), "lat": 22, "lng": 114}]
    }
    assert crew_client.post("/api/v1/crew/locations", future, format="json").status_code == 400


def test_pool_list_and_claim_with_409_for_the_loser(crew_client, crew, api_client):
    order = make_order(dlat=0.005)
    services.work_order_publish(order=order, actor=None)
    response = crew_client.get("/api/v1/crew/pool")
    assert response.status_code == 200
    entry = response.json()["results"][0]
    assert entry["id"] == order.pk
    assert entry["bonus_points"] == 0
    assert 0 < entry["distance_km"] < 1
    # Another crew claims first
    rival = make_crew(dlat=0.004)
    services.work_order_claim(order_id=order.pk, crew=rival, actor=None)
    lost = crew_client.post(f"/api/v1/crew/pool/{order.pk}/claim")
    assert lost.status_code == 409
    assert lost.json()["error"]["code"] == "already_taken"
    assert crew_client.get("/api/v1/crew/pool").json()["stats"]["lost_races"] == 1
    # A fresh order is claimed by us
    mine = make_order(dlat=0.002)
    services.work_order_publish(order=mine, actor=None)
    won = crew_client.post(f"/api/v1/crew/pool/{mine.pk}/claim")
    assert won.status_code == 200
    assert won.json()["status"] == S.CLAIMED


# --- console ---------------------------------------------------------------------------------


@pytest.fixture
def console(api_client, dispatcher):
    api_client.force_authenticate(dispatcher)
    return api_client


def test_console_list_filters_and_query_count(console, crew, django_assert_max_num_queries):
    net = build_network()
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    repair = services.work_order_raise_for_outage(outage_id=outage.pk)
    services.work_order_assign(order=repair, crew=crew, actor=None)
    for i in range(6):
        make_order(dlat=0.001 * i)
    danger = make_order(kind=WorkOrder.Kind.DANGER)
    with django_assert_max_num_queries(6):
        response = console.get("/api/v1/work-orders")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 8
    # The most pressing first: urgent orders (the danger one among them) before the others
    flags = [r["urgent"] for r in body["results"]]
    assert flags == sorted(flags, reverse=True)
    assert danger.pk in [r["id"] for r in body["results"] if r["urgent"]]
    assert console.get("/api/v1/work-orders?status=dispatched").json()["count"] == 1
    assert (
        console.get(f"/api/v1/work-orders?outage={outage.pk}").json()["results"][0]["outage"]["id"]
        == outage.pk
    )
    urgent = sum(o.is_urgent for o in WorkOrder.objects.all())
    assert console.get("/api/v1/work-orders?urgent=true").json()["count"] == urgent
    assert console.get("/api/v1/work-orders?sla_state=breached").json()["count"] == 0
    assert console.get(f"/api/v1/work-orders?q=%23{danger.pk}").json()["count"] == 1
    assert console.get("/api/v1/work-orders?status=bogus").status_code == 400


def test_console_detail_explains_the_decision(console, django_assert_max_num_queries):
    near = make_crew(dlat=0.01)
    make_crew(dlat=0.03)
    make_crew(on_duty=False)
    order = make_order()
    services.work_order_dispatch_auto(order_id=order.pk)
    with django_assert_max_num_queries(15):
        response = console.get(f"/api/v1/work-orders/{order.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["crew"]["id"] == near.pk
    decision = body["decisions"][0]
    assert decision["mode"] == "direct"
    chosen = [c for c in decision["candidates"] if c["chosen"]]
    assert chosen[0]["crew_id"] == near.pk
    assert {e["code"] for e in chosen[0]["explanation"]} == {
        "travel",
        "workload",
        "sla",
        "territory",
    }
    assert decision["filtered_out"][0]["reason_labels"]
    assert [t["kind"] for t in body["timeline"]] == ["created", "status_changed"]
    assert set(body["allowed_transitions"]) == set(WorkOrder.ALLOWED_TRANSITIONS[S.DISPATCHED])


def test_console_suggestions_rank_crews(console):
    near = make_crew(dlat=0.01)
    far = make_crew(dlat=0.04)
    order = make_order()
    response = console.get(f"/api/v1/work-orders/{order.pk}/suggestions")
    assert response.status_code == 200
    assert [c["crew"]["id"] for c in response.json()["candidates"]] == [near.pk, far.pk]
    assert console.get(f"/api/v1/work-orders/{order.pk}/suggestions?limit=x").status_code == 400
    assert console.get("/api/v1/work-orders/999999/suggestions").status_code == 404


def test_console_dispatch_redispatch_publish_cancel_merge(
    console, django_capture_on_commit_callbacks
):
    a = make_crew(dlat=0.01)
    b = make_crew(dlat=0.02)
    order = make_order()
    # Manual dispatch to b
    response = console.post(
        f"/api/v1/work-orders/{order.pk}/dispatch", {"crew": b.pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["crew"]["id"] == b.pk
    # Back to automatic dispatch: b is withdrawn and a gets it
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(f"/api/v1/work-orders/{order.pk}/dispatch", {}, format="json")
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.crew_id == a.pk
    # A stale version is refused
    stale = console.post(
        f"/api/v1/work-orders/{order.pk}/cancel", {"reason": "x", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    # Publish a fresh order, then merge it into the first
    other = make_order()
    published = console.post(
        f"/api/v1/work-orders/{other.pk}/publish", {"ttl_seconds": 120}, format="json"
    )
    assert published.status_code == 200
    assert published.json()["status"] == S.PUBLISHED
    merged = console.post(
        f"/api/v1/work-orders/{other.pk}/merge", {"into": order.pk, "reason": "重复"}, format="json"
    )
    assert merged.status_code == 200
    assert merged.json()["merged_into_id"] == order.pk
    cancelled = console.post(
        f"/api/v1/work-orders/{order.pk}/cancel", {"reason": "误报"}, format="json"
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == S.CANCELLED
    missing_reason = console.post(
        f"/api/v1/work-orders/{make_order().pk}/cancel", {}, format="json"
    )
    assert missing_reason.status_code == 400


def test_console_create_and_outage_actions(console):
    body = {"kind": "inspection", "title": "线路巡视", "lat": 22.55, "lng": 114.06}
    response = console.post("/api/v1/work-orders", body, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "inspection"
    assert (
        console.post(
            "/api/v1/work-orders", {"kind": "inspection", "title": "x"}, format="json"
        ).status_code
        == 400
    )
    assert (
        console.post(
            "/api/v1/work-orders",
            {"kind": "outage_repair", "title": "x", "lat": 1, "lng": 1},
            format="json",
        ).status_code
        == 400
    )
    net = build_network()
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    order = services.work_order_raise_for_outage(outage_id=outage.pk)
    confirm = console.post(f"/api/v1/work-orders/{order.pk}/outage/confirm", {}, format="json")
    assert confirm.status_code == 200
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.CONFIRMED
    etr = (timezone.now() + timedelta(hours=3)).isoformat()
    assert (
        console.post(
            f"/api/v1/work-orders/{order.pk}/outage/etr", {"etr": etr}, format="json"
        ).status_code
        == 200
    )
    assert Outage.objects.get(pk=outage.pk).etr is not None
    past = (timezone.now() - timedelta(hours=3)).isoformat()
    assert (
        console.post(
            f"/api/v1/work-orders/{order.pk}/outage/etr", {"etr": past}, format="json"
        ).status_code
        == 400
    )


def test_return_visit_by_a_hotline_agent(api_client, hotline_agent, crew):
    order = force_status(make_order(), S.COMPLETED, crew=crew)
    api_client.force_authenticate(hotline_agent)
    bad = api_client.post(
        f"/api/v1/work-orders/{order.pk}/return-visit",
        {"restored_confirmed": True, "satisfaction": 7},
        format="json",
    )
    assert bad.status_code == 400
    assert "satisfaction" in bad.json()["error"]["fields"]
    response = api_client.post(
        f"/api/v1/work-orders/{order.pk}/return-visit",
        {"restored_confirmed": True, "satisfaction": 4, "note": "满意"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == S.CLOSED
    assert response.json()["return_visits"][0]["satisfaction"] == 4
    # ... but a hotline agent cannot dispatch
    other = make_order()
    refused = api_client.post(
        f"/api/v1/work-orders/{other.pk}/dispatch", {"crew": crew.pk}, format="json"
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("who", ["outsider", "crew_member"])
def test_console_refuses_outsiders_and_crews(api_client, request, who):
    api_client.force_authenticate(request.getfixturevalue(who))
    order = make_order()
    assert api_client.get("/api/v1/work-orders").status_code == 403
    assert api_client.get(f"/api/v1/work-orders/{order.pk}").status_code == 403
    assert (
        api_client.post(
            f"/api/v1/work-orders/{order.pk}/cancel", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )
    assert api_client.get("/api/v1/dispatch/crews").status_code == 403


def test_crew_board_and_duty(
    console, crew, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    for i in range(4):
        make_crew(dlat=0.01 * i)
    order = _assigned(crew)
    with django_assert_max_num_queries(5):
        response = console.get("/api/v1/dispatch/crews")
    assert response.status_code == 200
    row = next(r for r in response.json() if r["id"] == crew.pk)
    assert row["open_orders"] == 1
    assert row["status"] == Crew.Status.ASSIGNED
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(
            f"/api/v1/dispatch/crews/{crew.pk}/duty", {"on_duty": False}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["on_duty"] is False
    order.refresh_from_db()
    assert order.crew_id != crew.pk
    assert (
        console.post(
            "/api/v1/dispatch/crews/999999/duty", {"on_duty": True}, format="json"
        ).status_code
        == 404
    )


def test_summary_counts(console, crew):
    _assigned(crew)
    make_order()
    body = console.get("/api/v1/work-orders/summary").json()
    assert body["dispatched"] == 1
    assert body["created"] == 1
    assert body["sla_breached"] == 0


def test_schema_documents_the_crew_contract(console):
    response = console.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/crew/orders",
        "/api/v1/crew/orders/{order_id}/actions",
        "/api/v1/crew/locations",
        "/api/v1/crew/pool",
        "/api/v1/crew/pool/{order_id}/claim",
        "/api/v1/work-orders/{order_id}/suggestions",
    ):
        assert path in text


def test_token_auth_works_for_the_crew_app(api_client, crew):
    user = crew_user(crew)
    token = Token.objects.create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/crew/orders").status_code == 200
    assert DispatchDecision.objects.count() == 0
