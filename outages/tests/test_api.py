"""The staff outage API: permissions, list, detail, planned creation, transitions, ETR,
partial restoration, notices; the contract's error shape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from outages.models import Outage, OutageEvent
from outages.tests.factories import OutageFactory, outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status
LIST = "/api/v1/outages"


def _fault(net, code="S1", status=S.CONFIRMED):
    return services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net[code],
        source=Outage.Source.SCADA,
        actor=None,
        status=status,
    )


def _assert_error(response, status, code=None, fields=()):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["message"]
    if code:
        assert body["code"] == code
    for name in fields:
        assert body["fields"].get(name), body


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", LIST, None),
        ("get", "/api/v1/outages/1", None),
        ("get", "/api/v1/outages/notices", None),
        ("get", "/api/v1/outages/stats/districts", None),
        ("post", "/api/v1/outages/planned", {}),
        ("post", "/api/v1/outages/1/transitions", {"to": "confirmed"}),
        ("post", "/api/v1/outages/1/etr", {"etr": None}),
        ("post", "/api/v1/outages/1/restorations", {"device": "B"}),
        ("post", "/api/v1/outages/1/notice", {}),
        ("patch", "/api/v1/outages/1/edit", {"description": "x"}),
    ],
)
def test_outsiders_and_anonymous_are_refused(api_client, outsider, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")
    assert response.status_code in (401, 403)
    api_client.force_authenticate(outsider)
    response = getattr(api_client, method)(path, body, format="json")
    _assert_error(response, 403)


def test_hotline_agents_read_but_do_not_write(api_client, hotline_agent, crew_user, network):
    outage = _fault(network)
    api_client.force_authenticate(hotline_agent)
    assert api_client.get(LIST).status_code == 200
    assert api_client.get(f"{LIST}/{outage.pk}").status_code == 200
    response = api_client.post(f"{LIST}/{outage.pk}/transitions", {"to": "crew_dispatched"})
    _assert_error(response, 403)
    api_client.force_authenticate(crew_user)
    _assert_error(api_client.get(LIST), 403)


# --- reads -------------------------------------------------------------------------------------


def test_list_filters_and_paginates(api_client, dispatcher, network):
    confirmed = _fault(network, "S1")
    predicted = _fault(network, "S2", status=S.PREDICTED)
    restored = services.outage_restore(outage=_fault(network, "FU"), actor=None)
    api_client.force_authenticate(dispatcher)

    def ids(**params):
        response = api_client.get(LIST, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert set(ids()) == {confirmed.pk, predicted.pk, restored.pk}
    assert set(ids(active="true")) == {confirmed.pk, predicted.pk}
    assert ids(active="false") == [restored.pk]
    assert ids(status="predicted") == [predicted.pk]
    assert set(ids(status=["predicted", "restored"])) == {predicted.pk, restored.pk}
    assert set(ids(category="fault")) == {confirmed.pk, predicted.pk, restored.pk}
    assert ids(category="planned") == []
    assert len(ids(type="fault_mv_feeder")) == 3
    district = network.sps["T1"][0].district_id
    assert len(ids(district=district)) == 3
    assert ids(grid=network.sps["T1"][0].grid_id + 1000) == []
    page = api_client.get(LIST, {"page_size": 2}).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    row = page["results"][0]
    assert {"id", "status", "type", "category", "customers_affected", "etr", "version"} <= set(row)


def test_list_bad_filters_are_400(api_client, dispatcher):
    api_client.force_authenticate(dispatcher)
    response = api_client.get(LIST, {"status": "exploded", "district": "x"})
    _assert_error(response, 400, "invalid", fields=("status", "district"))


def test_list_query_count_does_not_grow_with_rows(
    api_client, dispatcher, network, django_assert_max_num_queries
):
    for code in ("S1", "S2", "FU", "T1", "T2"):
        OutageFactory(device=network[code], cause=None)
    api_client.force_authenticate(dispatcher)
    # the user's groups, the count, the page: nothing per row
    with django_assert_max_num_queries(3):
        response = api_client.get(LIST)
    assert len(response.json()["results"]) == 5


def test_detail_has_timeline_and_counts(api_client, hotline_agent, network):
    outage = _fault(network, "B")
    outage = services.outage_restore_device(outage=outage, device=network["S2"], actor=None)
    api_client.force_authenticate(hotline_agent)
    body = api_client.get(f"{LIST}/{outage.pk}").json()
    assert body["status"] == "partially_restored"
    assert (body["customers_affected"], body["customers_restored"], body["customers_out"]) == (
        11,
        3,
        8,
    )
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds == ["created", "device_restored", "status_changed"]
    assert body["device"]["code"] == "B"
    assert body["area"]["type"] == "Polygon"
    _assert_error(api_client.get(f"{LIST}/{outage.pk + 99}"), 404)


def test_notices_and_district_counts(api_client, supervisor, network):
    start = timezone.now() + timedelta(days=8)
    planned = services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[network["S1"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="检修",
        actor=None,
    )
    _fault(network, "S2")
    api_client.force_authenticate(supervisor)
    assert [r["id"] for r in api_client.get(f"{LIST}/notices", {"days": 10}).json()] == [planned.pk]
    sp = network.sps["T1"][0].pk
    assert api_client.get(f"{LIST}/notices", {"service_point": sp}).json() == []
    rows = api_client.get(f"{LIST}/stats/districts").json()
    mine = next(r for r in rows if r["district_id"] == network.sps["T3"][0].district_id)
    assert (mine["outages"], mine["customers_out"]) == (1, 3)


# --- planned creation ------------------------------------------------------------------------


def _planned_body(**overrides):
    start = timezone.now() + timedelta(days=8)
    body = {
        "type": "planned_maintenance",
        "devices": ["S1", "S2"],
        "planned_start_at": start.isoformat(),
        "planned_end_at": (start + timedelta(hours=6)).isoformat(),
        "description": "10kV 线路检修",
    }
    return body | overrides


def test_create_planned_outage(api_client, dispatcher, network):
    api_client.force_authenticate(dispatcher)
    response = api_client.post(f"{LIST}/planned", _planned_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["customers_affected"] == 9
    assert {d["code"] for d in [body["device"], *body["extra_devices"]]} == {"S1", "S2"}
    assert Outage.objects.get(pk=body["id"]).created_by == dispatcher


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"type": "nope", "devices": ["ZZZ"]}, ("type", "devices")),
        ({"devices": []}, ("devices",)),
        ({"planned_start_at": "tomorrow"}, ("planned_start_at",)),
        ({"description": ""}, ("description",)),
        ({"type": "fault_mv_feeder"}, ("type",)),
        ({"devices": "S1"}, ("devices",)),
    ],
)
def test_create_planned_outage_bad_input_is_400_per_field(
    api_client, dispatcher, network, overrides, fields
):
    api_client.force_authenticate(dispatcher)
    response = api_client.post(f"{LIST}/planned", _planned_body(**overrides), format="json")
    _assert_error(response, 400, fields=fields)


def test_create_planned_outage_window_order(api_client, dispatcher, network):
    api_client.force_authenticate(dispatcher)
    start = timezone.now() + timedelta(days=8)
    body = _planned_body(
        planned_start_at=start.isoformat(), planned_end_at=(start - timedelta(hours=1)).isoformat()
    )
    _assert_error(
        api_client.post(f"{LIST}/planned", body, format="json"), 400, "invalid", ("planned_end_at",)
    )


def test_create_planned_outage_short_notice(api_client, dispatcher, network):
    api_client.force_authenticate(dispatcher)
    start = timezone.now() + timedelta(days=2)
    body = _planned_body(
        planned_start_at=start.isoformat(), planned_end_at=(start + timedelta(hours=2)).isoformat()
    )
    response = api_client.post(f"{LIST}/planned", body, format="json")
    _assert_error(response, 400, "notice_too_short", ("planned_start_at", "override_reason"))
    body["override_reason"] = "配合市政工程"
    response = api_client.post(f"{LIST}/planned", body, format="json")
    assert response.status_code == 201
    assert response.json()["notice_override_reason"] == "配合市政工程"


def test_publish_notice(api_client, dispatcher, network):
    api_client.force_authenticate(dispatcher)
    outage_id = api_client.post(f"{LIST}/planned", _planned_body(), format="json").json()["id"]
    response = api_client.post(f"{LIST}/{outage_id}/notice", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "notified"
    assert response.json()["notice_published_at"]
    _assert_error(api_client.post(f"{LIST}/{outage_id}/notice", {}, format="json"), 409)


# --- transitions, ETR, restoration -----------------------------------------------------------


def test_transition(api_client, dispatcher, network):
    outage = _fault(network, status=S.PREDICTED)
    api_client.force_authenticate(dispatcher)
    url = f"{LIST}/{outage.pk}/transitions"
    response = api_client.post(url, {"to": "confirmed", "reason": "SCADA 确认"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "confirmed"
    assert body["timeline"][-1]["reason"] == "SCADA 确认"
    assert body["timeline"][-1]["actor"] == dispatcher.username
    # refused transition → 409
    _assert_error(
        api_client.post(url, {"to": "scheduled"}, format="json"), 409, "transition_not_allowed"
    )
    # a stale version → 409, nothing changed
    stale = {"to": "crew_dispatched", "version": body["version"] - 1}
    _assert_error(api_client.post(url, stale, format="json"), 409, "concurrent_update")
    assert Outage.objects.get(pk=outage.pk).status == "confirmed"
    # unknown status → 400
    _assert_error(api_client.post(url, {"to": "exploded"}, format="json"), 400, "invalid", ("to",))
    _assert_error(api_client.post(f"{LIST}/{outage.pk + 99}/transitions", {"to": "closed"}), 404)


def test_set_etr(api_client, dispatcher, network):
    outage = _fault(network)
    api_client.force_authenticate(dispatcher)
    url = f"{LIST}/{outage.pk}/etr"
    etr = timezone.now() + timedelta(hours=2)
    response = api_client.post(url, {"etr": etr.isoformat(), "reason": "电缆抢修"}, format="json")
    assert response.status_code == 200
    assert response.json()["etr_history"][0]["reason"] == "电缆抢修"
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    _assert_error(api_client.post(url, {"etr": past}, format="json"), 400, "etr_in_past", ("etr",))
    _assert_error(api_client.post(url, {"etr": "soon"}, format="json"), 400, "invalid", ("etr",))


def test_restore_device(api_client, dispatcher, network):
    outage = _fault(network, "B")
    api_client.force_authenticate(dispatcher)
    url = f"{LIST}/{outage.pk}/restorations"
    response = api_client.post(url, {"device": "S1"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "partially_restored"
    assert response.json()["customers_restored"] == 6
    _assert_error(api_client.post(url, {"device": "T1"}, format="json"), 400, "nothing_restored")
    _assert_error(
        api_client.post(url, {"device": "NOPE"}, format="json"), 400, "invalid", ("device",)
    )
    response = api_client.post(url, {"device": "B"}, format="json")
    assert response.json()["status"] == "restored"


def test_update_description_and_cause(api_client, dispatcher, network):
    outage = _fault(network)
    api_client.force_authenticate(dispatcher)
    url = f"{LIST}/{outage.pk}/edit"
    response = api_client.patch(
        url, {"description": "树枝碰线", "cause": "tree_contact"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["cause"]["code"] == "tree_contact"
    assert outage.events.filter(kind=OutageEvent.Kind.CAUSE_SET).exists()
    _assert_error(api_client.patch(url, {"cause": "aliens"}, format="json"), 400, fields=("cause",))


def test_schema_describes_the_outage_endpoints(api_client, dispatcher):
    api_client.force_authenticate(dispatcher)
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/outages/{outage_id}/transitions" in paths
    assert "/api/v1/outages/planned" in paths
