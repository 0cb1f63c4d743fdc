"""The dispatcher console page and its live feed: who may see them, what the feed carries,
its ETag (an unchanged picture is a bodiless 304), the list filters and a query bound."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outages import services as outage_services
from outages.models import Outage, Priority
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type
from workorders import console_views, services
from workorders.models import WorkOrder
from workorders.tests.factories import force_status, make_crew, make_grid, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

PAGE = "/console/"
FEED = "/console/feed.json"


def _feed(client, query: str = "", **environ):
    return client.get(FEED + (f"?{query}" if query else ""), **environ)


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("dispatcher", 200), ("supervisor", 200), ("hotline_agent", 403), ("outsider", 403)],
)
def test_console_page_is_for_dispatchers_and_supervisors(client, request, role, expected):
    client.force_login(request.getfixturevalue(role))
    response = client.get(PAGE)
    assert response.status_code == expected
    if expected == 200:
        assert b'id="console-map"' in response.content
    else:
        # A page that says why, not a bare "403 Forbidden"
        assert "只有调度员和值班长可以使用调度台" in response.content.decode()
        assert b'id="console-map"' not in response.content


def test_console_page_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/console/"


@pytest.mark.parametrize(
    ("role", "expected", "code"),
    [
        ("dispatcher", 200, None),
        ("supervisor", 200, None),
        ("hotline_agent", 403, "permission_denied"),
        ("outsider", 403, "permission_denied"),
        (None, 403, "not_authenticated"),
    ],
)
def test_feed_answers_json_to_everyone_and_data_only_to_console_roles(
    client, request, role, expected, code
):
    if role:
        client.force_login(request.getfixturevalue(role))
    response = _feed(client)
    assert response.status_code == expected
    # Never a redirect to an HTML login page: the poller reads JSON.
    assert response["Content-Type"] == "application/json"
    if code:
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]


def test_console_page_carries_its_config_and_no_inline_script_of_its_own(client, dispatcher):
    grid = make_grid()
    client.force_login(dispatcher)
    html = client.get(PAGE).content.decode()
    config = json.loads(re.search(r'id="console-config"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert config["feedUrl"] == FEED
    assert config["ordersApi"] == "/api/v1/work-orders"
    assert 1 <= config["pollSeconds"] <= 5
    assert config["csrfToken"]
    assert config["labels"]["status"]["created"] == "待派单"
    assert config["labels"]["sla"]["breached"] == "超时"
    assert {"id": grid.pk, "code": grid.code, "name": grid.name, "district": grid.district_id} in (
        config["grids"]
    )
    assert set(config["statusGroups"]["finished"]) == {"closed", "cancelled", "merged"}
    districts = json.loads(
        re.search(r'id="districts-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    )
    assert len(districts["features"]) >= 9
    # Our JS lives in static files; the only inline script is django-leaflet's map loader.
    code = re.findall(r"<script(?![^>]*(?:src=|application/json))[^>]*>(.*?)</script>", html, re.S)
    assert len(code) == 1
    assert "L.Map.djangoMap('console-map'" in code[0]
    for name in ("console-api.js", "console-map.js", "console.js"):
        assert f"/static/workorders/js/{name}" in html
    # The console's parts load in order: the shared page kit, its API client, then the parts
    # that fill window.DispatchConsole (the feed creates it), and console.js starts the page.
    scripts = re.findall(r'<script src="/static/([^"]+)"', html)
    parts = [
        "core/js/page.js",
        "workorders/js/console-api.js",
        *(f"workorders/js/console-{p}.js" for p in ("feed", "sla", "lists", "decisions")),
        *(f"workorders/js/console-{p}.js" for p in ("detail", "actions", "dispatch")),
        "workorders/js/console.js",
    ]
    positions = [scripts.index(name) for name in parts]
    assert positions == sorted(positions)


def test_home_page_links_the_console_and_the_public_map(client):
    html = client.get("/").content.decode()
    assert 'href="/console/"' in html
    assert 'href="/map/"' in html


# --- the feed's content ---------------------------------------------------------------------------


def _outage_with_order():
    """A predicted outage on a small network; its repair order is raised and dispatched."""
    net = build_network()
    crew = make_crew()
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    return outage, crew


def test_feed_carries_orders_outages_crews_and_counts(
    client, dispatcher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outage, crew = _outage_with_order()
    waiting = make_order(title="单户停电", priority=Priority.URGENT)
    client.force_login(dispatcher)

    response = _feed(client)

    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert "private" in response["Cache-Control"]
    body = response.json()
    assert body["version"] == response["ETag"].strip('"')
    assert set(body) == {"version", "generated_at", "counts", "orders", "outages", "crews"}
    order = WorkOrder.objects.get(outage=outage)
    items = {row["id"]: row for row in body["orders"]["items"]}
    assert body["orders"]["total"] == 2
    assert set(items) == {order.pk, waiting.pk}
    row = items[order.pk]
    assert row["kind"] == "outage_repair"
    assert row["status"] == "dispatched"
    assert (row["crew_id"], row["crew"]) == (crew.pk, crew.name)
    assert (row["outage_id"], row["outage_status"]) == (outage.pk, "crew_dispatched")
    assert row["sla_state"] == "ok"
    assert row["arrive_due_at"] is not None
    assert row["version"] == order.version
    assert isinstance(row["lat"], float)
    assert items[waiting.pk]["urgent"] is True
    assert items[waiting.pk]["crew_id"] is None
    # The most pressing first: by priority, then by arrival deadline.
    keys = [(r["priority"], r["arrive_due_at"]) for r in body["orders"]["items"]]
    assert keys == sorted(keys)

    (outage_row,) = body["outages"]
    assert outage_row["id"] == outage.pk
    assert outage_row["order_id"] == order.pk
    assert outage_row["customers_affected"] == 6
    assert outage_row["customers_out"] == 6
    assert outage_row["category"] == "fault"
    assert outage_row["area"]["type"] in {"Polygon", "MultiPolygon"}
    assert 22 < outage_row["lat"] < 23
    assert 113 < outage_row["lng"] < 115

    (crew_row,) = body["crews"]
    assert crew_row["id"] == crew.pk
    assert crew_row["status"] == "assigned"
    assert crew_row["open_orders"] == 1
    assert crew_row["lat"] == pytest.approx(crew.last_lat)

    assert body["counts"]["dispatched"] == 1
    assert body["counts"]["created"] == 1


def test_feed_speaks_english_when_asked(client, dispatcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _outage_with_order()
    client.force_login(dispatcher)
    zh = _feed(client)
    en = _feed(client, HTTP_ACCEPT_LANGUAGE="en")
    assert zh.json()["outages"][0]["type"] == "中压线路故障"
    english = en.json()["outages"][0]["type"]
    assert english.isascii()
    assert english
    # The same data in another language is another representation.
    assert zh["ETag"] != en["ETag"]
    assert "Accept-Language" in en["Vary"]


# --- the ETag -------------------------------------------------------------------------------------


def _etag_after(client, etag: str) -> tuple[int, str]:
    response = _feed(client, HTTP_IF_NONE_MATCH=etag)
    return response.status_code, response["ETag"]


def test_unchanged_feed_is_a_bodiless_304(client, dispatcher, django_assert_max_num_queries):
    make_crew()
    make_order()
    client.force_login(dispatcher)
    etag = _feed(client)["ETag"]
    _feed(client)  # the session and the user's roles are warm now

    with django_assert_max_num_queries(6):
        response = _feed(client, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    # Behind a gzipping proxy the browser holds (and sends back) the weak form of the tag
    assert _feed(client, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304


@pytest.mark.parametrize("vendor", ["postgresql", "other"])
def test_crew_fingerprint_follows_positions_and_duty_on_every_database(
    dispatcher, monkeypatch, vendor
):
    from django.db import connection

    crew = make_crew()
    make_crew(dlat=0.01)
    if vendor != connection.vendor:
        # The portable path (SQLite, the embedded mode) digests the rows in Python.
        monkeypatch.setattr(connection, "vendor", vendor)
    seen = {console_views._crews_fingerprint()}
    assert console_views._crews_fingerprint() in seen  # stable while nothing changes
    services.crew_locations_record(crew=crew, points=[(timezone.now(), 22.55, 114.06)])
    seen.add(console_views._crews_fingerprint())
    services.crew_set_on_duty(crew=crew, on_duty=False, actor=dispatcher)
    seen.add(console_views._crews_fingerprint())
    assert len(seen) == 3


@pytest.mark.parametrize(
    "change",
    ["order_cancelled", "order_created", "sla_warning", "crew_moved", "crew_off_duty", "etr_set"],
)
def test_feed_etag_changes_with_every_kind_of_change(
    client, dispatcher, django_capture_on_commit_callbacks, change
):
    with django_capture_on_commit_callbacks(execute=True):
        outage, crew = _outage_with_order()
    # An order whose arrival clock started 40 of its 45 minutes ago: its warning is due.
    late = make_order(sla_started_at=timezone.now() - timedelta(minutes=40))
    client.force_login(dispatcher)
    etag = _feed(client)["ETag"]
    assert _etag_after(client, etag)[0] == 304

    with django_capture_on_commit_callbacks(execute=True):
        if change == "order_cancelled":
            services.work_order_cancel(order=late, actor=dispatcher, reason="重复")
        elif change == "order_created":
            make_order()
        elif change == "sla_warning":
            # The SLA marks bump no version: the fingerprint must still see them.
            assert services.work_order_sla_check(order_id=late.pk) == ["arrive_warning"]
        elif change == "crew_moved":
            services.crew_locations_record(crew=crew, points=[(timezone.now(), 22.55, 114.06)])
        elif change == "crew_off_duty":
            services.crew_set_on_duty(crew=crew, on_duty=False, actor=dispatcher)
        elif change == "etr_set":
            outage_services.outage_set_etr(
                outage=Outage.objects.get(pk=outage.pk),
                etr=timezone.now() + timedelta(hours=2),
                actor=dispatcher,
            )

    status, new_etag = _etag_after(client, etag)
    assert status == 200
    assert new_etag != etag


def test_feed_etag_depends_on_the_filters(client, dispatcher):
    make_order()
    client.force_login(dispatcher)
    etag = _feed(client)["ETag"]
    response = _feed(client, "urgent=1", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


# --- filters --------------------------------------------------------------------------------------


def test_feed_filters_the_orders(client, dispatcher):
    crew = make_crew()
    grid_a, grid_b = make_grid(), make_grid()
    premise = make_order(grid=grid_a, title="华强北路停电")
    danger = make_order(kind=WorkOrder.Kind.DANGER, grid=grid_b, title="电线落地")
    held = force_status(make_order(grid=grid_b), WorkOrder.Status.ON_SITE, crew=crew)
    breached = make_order(grid=grid_a)
    WorkOrder.objects.filter(pk=breached.pk).update(sla_state=WorkOrder.SlaState.BREACHED)
    closed = force_status(make_order(), WorkOrder.Status.CANCELLED, closed_at=timezone.now())
    client.force_login(dispatcher)

    def ids(query=""):
        response = _feed(client, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["orders"]["items"]}

    # No status: every open order, never a finished one.
    assert ids() == {premise.pk, danger.pk, held.pk, breached.pk}
    assert ids("status=cancelled&status=closed&status=merged") == {closed.pk}
    assert ids("status=on_site") == {held.pk}
    assert ids("kind=danger") == {danger.pk}
    assert ids("urgent=1") == {danger.pk}
    assert ids("sla_state=breached") == {breached.pk}
    assert ids(f"grid={grid_b.pk}") == {danger.pk, held.pk}
    assert ids(f"district={grid_a.district_id}") == {premise.pk, danger.pk, held.pk, breached.pk}
    assert ids("q=华强北") == {premise.pk}
    assert ids(f"q=%23{danger.pk}") == {danger.pk}
    assert ids("status=created&kind=danger&urgent=1") == {danger.pk}


def test_feed_refuses_bad_filters_with_field_messages(client, dispatcher):
    client.force_login(dispatcher)
    response = _feed(client, "status=flying&grid=abc")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"status", "grid"}


def test_feed_sends_at_most_the_limit_and_says_how_many_there_are(client, dispatcher, monkeypatch):
    monkeypatch.setattr(console_views, "FEED_ORDER_LIMIT", 3)
    for _ in range(5):
        make_order()
    client.force_login(dispatcher)
    orders = _feed(client).json()["orders"]
    assert orders["total"] == 5
    assert orders["limit"] == 3
    assert len(orders["items"]) == 3


# --- cost -----------------------------------------------------------------------------------------


def test_feed_query_count_does_not_grow_with_orders_crews_or_outages(
    client, dispatcher, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # Given a busy picture: 3 outages with their orders, 12 crews, 60 more orders in every state
    net = build_network()
    crews = [make_crew(dlat=0.001 * i) for i in range(12)]
    with django_capture_on_commit_callbacks(execute=True):
        for device in ("S1", "S2", "FU"):
            outage_services.outage_create(
                type=outage_type("fault_mv_feeder"), device=net[device], source="rollup", actor=None
            )
    grids = [make_grid() for _ in range(3)]
    states = [WorkOrder.Status.CREATED, WorkOrder.Status.DISPATCHED, WorkOrder.Status.ON_SITE]
    for i in range(60):
        order = make_order(grid=grids[i % 3], dlat=0.001 * i)
        if states[i % 3] != WorkOrder.Status.CREATED:
            force_status(order, states[i % 3], crew=crews[i % 12])
    client.force_login(dispatcher)

    # When the console asks for everything
    with django_assert_max_num_queries(13):
        response = _feed(client)

    # Then it got everything in a bounded number of queries
    body = response.json()
    assert body["orders"]["total"] == 63
    assert len(body["outages"]) == 3
    assert all(o["order_id"] for o in body["outages"])
    assert len(body["crews"]) == 12
