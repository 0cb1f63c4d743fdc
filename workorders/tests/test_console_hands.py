"""The dispatcher's hands on an order the intake could not place: putting it on the map,
picking any on-duty crew with a recorded reason, and the excluded crews in words."""

import pytest

from grids.tests.factories import ServicePointFactory
from workorders import services
from workorders.models import DispatchDecision, WorkOrder, WorkOrderEvent
from workorders.tests.factories import LAT, LNG, make_crew, make_grid, make_order, skill

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


def _unplaced(**kwargs) -> WorkOrder:
    """An urgent hazard at an address the register lacks: no position, no grid."""
    return services.work_order_create(
        kind=WorkOrder.Kind.DANGER,
        title="电线断落",
        address="某不存在的路 1 号",
        actor=None,
        dispatch=False,
        **kwargs,
    )


def _place_url(order):
    return f"/api/v1/work-orders/{order.pk}/place"


def _dispatch_url(order):
    return f"/api/v1/work-orders/{order.pk}/dispatch"


def test_an_unplaced_order_lists_every_on_duty_crew_with_words_not_codes(api_client, dispatcher):
    # Given an order without a position, two on-duty crews (one full) and one off duty
    order = _unplaced()
    assert order.lat is None
    free = make_crew()
    full = make_crew(capacity=1, dlat=0.01)
    services.work_order_assign(order=make_order(), crew=full, actor=None)
    off = make_crew(on_duty=False)
    api_client.force_authenticate(dispatcher)

    # When the dispatcher opens the dispatch dialog
    response = api_client.get(f"/api/v1/work-orders/{order.pk}/suggestions")

    # Then the ranking is empty with the outcome in words, and every on-duty crew is offered
    assert response.status_code == 200
    body = response.json()
    assert body["candidates"] == []
    assert body["outcome"] == "no_location"
    assert body["outcome_label"]
    assert "no_location" not in body["outcome_label"]
    by_id = {c["crew_id"]: c for c in body["on_duty"]}
    assert set(by_id) == {free.pk, full.pk}
    assert off.pk not in by_id
    assert by_id[free.pk]["eligible"] is True
    assert by_id[full.pk]["eligible"] is False
    assert by_id[full.pk]["reasons"] == ["no_capacity"]
    assert by_id[full.pk]["reason_labels"] == ["班组在手工单已满"]


def test_placing_on_the_map_gives_position_grid_and_a_timeline_note(api_client, dispatcher):
    # Given an unplaced order and a premise 100 m from where the dispatcher clicks
    grid = make_grid()
    premise = ServicePointFactory(lat=LAT, lng=LNG, grid=grid)
    order = _unplaced()
    api_client.force_authenticate(dispatcher)

    # When the dispatcher clicks the map next to it
    response = api_client.post(
        _place_url(order),
        {"lat": LAT + 0.001, "lng": LNG, "version": order.version, "reason": "来电人描述的路口"},
        format="json",
    )

    # Then the order has the point, the premise's grid and district, and a new version
    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert (order.lat, order.lng) == (LAT + 0.001, LNG)
    assert order.grid_id == grid.pk
    assert order.district_id == premise.district_id
    assert response.json()["version"] == order.version
    note = WorkOrderEvent.objects.filter(order=order, kind=WorkOrderEvent.Kind.NOTE).get()
    assert note.data["cause"] == "placed"
    assert note.data["how"] == "map"
    assert note.reason == "来电人描述的路口"
    # and the crews can now be ranked against it
    make_crew(grid=grid)
    ranked = api_client.get(f"/api/v1/work-orders/{order.pk}/suggestions").json()
    assert ranked["outcome"] == ""
    assert len(ranked["candidates"]) == 1


def test_placing_on_a_service_point_takes_its_address(api_client, dispatcher):
    premise = ServicePointFactory(lat=LAT + 0.02, lng=LNG, address="福田区福华路88号")
    order = _unplaced()
    api_client.force_authenticate(dispatcher)
    response = api_client.post(_place_url(order), {"service_point": premise.pk}, format="json")
    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert (order.lat, order.lng) == (premise.lat, premise.lng)
    assert order.service_point_id == premise.pk
    assert order.address == "福田区福华路88号"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lat": LAT},
        {"lat": LAT, "lng": LNG, "service_point": 1},
        {"lat": 91, "lng": LNG},
        {"device": 999999},
        {"lat": "north", "lng": LNG},
    ],
)
def test_placing_refuses_bad_input_with_the_contract_shape(api_client, dispatcher, body):
    order = _unplaced()
    api_client.force_authenticate(dispatcher)
    response = api_client.post(_place_url(order), body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"]
    assert error["message"]
    assert error["fields"]
    order.refresh_from_db()
    assert order.lat is None


def test_placing_with_a_stale_version_is_a_conflict(api_client, dispatcher):
    order = _unplaced()
    api_client.force_authenticate(dispatcher)
    body = {"lat": LAT, "lng": LNG, "version": order.version + 5}
    response = api_client.post(_place_url(order), body, format="json")
    assert response.status_code == 409
    order.refresh_from_db()
    assert order.lat is None


def test_a_closed_order_cannot_be_placed(api_client, dispatcher):
    order = _unplaced()
    services.work_order_cancel(order=order, actor=None, reason="重复")
    api_client.force_authenticate(dispatcher)
    response = api_client.post(_place_url(order), {"lat": LAT, "lng": LNG}, format="json")
    assert response.status_code == 409


@pytest.mark.parametrize("who", ["outsider", "hotline_agent", None])
def test_only_dispatchers_place_and_override(api_client, request, who):
    order = _unplaced()
    crew = make_crew()
    if who:
        api_client.force_authenticate(request.getfixturevalue(who))
    placed = api_client.post(_place_url(order), {"lat": LAT, "lng": LNG}, format="json")
    body = {"crew": crew.pk, "override": True, "reason": "就近"}
    dispatched = api_client.post(_dispatch_url(order), body, format="json")
    assert placed.status_code in (401, 403)
    assert dispatched.status_code in (401, 403)
    order.refresh_from_db()
    assert order.lat is None
    assert order.status == S.CREATED


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_override_without_a_reason_is_refused(api_client, dispatcher, reason):
    order = _unplaced()
    crew = make_crew()
    api_client.force_authenticate(dispatcher)
    body = {"crew": crew.pk, "override": True, "version": order.version}
    if reason is not None:
        body["reason"] = reason
    response = api_client.post(_dispatch_url(order), body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "reason" in error["fields"]
    order.refresh_from_db()
    assert order.status == S.CREATED
    assert not DispatchDecision.objects.filter(order=order).exists()


def test_an_override_dispatches_an_excluded_crew_and_records_why(api_client, dispatcher):
    # Given a located order and the only on-duty crew, which lacks the skill it needs
    order = make_order(skill_needed=skill("hv"))
    crew = make_crew(skills=("lv",))
    api_client.force_authenticate(dispatcher)
    options = api_client.get(f"/api/v1/work-orders/{order.pk}/suggestions").json()
    assert [c["reasons"] for c in options["on_duty"]] == [["missing_skill"]]

    # When the dispatcher overrides the filter with a reason
    body = {"crew": crew.pk, "override": True, "reason": "高压班组都在外", "version": order.version}
    response = api_client.post(_dispatch_url(order), body, format="json")

    # Then the order is dispatched and the decision records the override and its reason
    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert order.status == S.DISPATCHED
    assert order.crew_id == crew.pk
    decision = DispatchDecision.objects.filter(order=order, crew=crew).get()
    assert decision.mode == DispatchDecision.Mode.MANUAL
    assert decision.data["override"] is True
    assert decision.data["excluded_for"] == ["missing_skill"]
    assert decision.data["reason"] == "高压班组都在外"
    event = WorkOrderEvent.objects.filter(order=order, to_status=S.DISPATCHED).get()
    assert event.reason == "高压班组都在外"


def test_an_unplaced_urgent_order_is_dispatched_by_hand_with_a_reason(api_client, dispatcher):
    order = _unplaced()
    crew = make_crew()
    api_client.force_authenticate(dispatcher)
    body = {"crew": crew.pk, "override": True, "reason": "地址不在档案中，电话确认"}
    response = api_client.post(_dispatch_url(order), body, format="json")
    assert response.status_code == 200, response.json()
    decision = DispatchDecision.objects.filter(order=order, crew=crew).get()
    assert decision.data["excluded_for"] == ["no_location"]


def test_the_timeline_names_machine_actors_in_words(api_client, dispatcher):
    order = _unplaced()
    WorkOrderEvent.objects.filter(order=order).update(actor_label="dispatch")
    api_client.force_authenticate(dispatcher)
    timeline = api_client.get(f"/api/v1/work-orders/{order.pk}").json()["timeline"]
    assert {t["actor"] for t in timeline} == {"dispatch"}
    assert {t["actor_display"] for t in timeline} == {"自动派单"}


@pytest.mark.parametrize(
    ("outage_status", "order_status", "shown"),
    [
        ("crew_on_site", "dispatched", "crew_dispatched"),
        ("crew_on_site", "on_site", "crew_on_site"),
        ("crew_dispatched", "on_site", "crew_on_site"),
        ("crew_dispatched", "created", "confirmed"),
        ("crew_on_site", None, "confirmed"),
        ("confirmed", "en_route", "crew_dispatched"),
        ("predicted", "dispatched", "predicted"),
        ("partially_restored", "on_site", "partially_restored"),
        ("in_progress", None, "in_progress"),
    ],
)
def test_the_console_derives_an_outages_crew_state_from_its_order(
    outage_status, order_status, shown
):
    from workorders.selectors.console import outage_repair_status

    assert outage_repair_status(outage_status, order_status) == shown


def test_the_feed_shows_the_crew_state_of_the_repair_order(client, dispatcher):
    # Given an outage marked "crew on site" while its repair order is only dispatched
    from outages import services as outage_services
    from outages.models import Outage
    from outages.tests.conftest import build_network
    from outages.tests.factories import outage_type

    net = build_network()
    crew = make_crew(dlat=0.002)
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    order = services.work_order_raise_for_outage(outage_id=outage.pk)
    services.work_order_assign(order=order, crew=crew, actor=None)
    Outage.objects.filter(pk=outage.pk).update(status=Outage.Status.CREW_ON_SITE)
    client.force_login(dispatcher)

    # When the console reads its feed
    rows = {o["id"]: o for o in client.get("/console/feed.json").json()["outages"]}

    # Then the outage's shown state follows the order
    assert rows[outage.pk]["status"] == "crew_on_site"
    assert rows[outage.pk]["order_status"] == "dispatched"
    assert rows[outage.pk]["repair_status"] == "crew_dispatched"
