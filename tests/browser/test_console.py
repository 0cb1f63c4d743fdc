"""The dispatcher console in a real browser: log in, watch an outage and its work order appear
without a reload, open the order and re-dispatch it to another crew from the ranked suggestions.

The data is made through the services while the page is open (the live server shares the
database; tasks run eagerly in the test thread), so the page can only learn about it by
polling its feed. Screenshots go to ``test-artifacts/``.
"""

import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services as outage_services
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type
from workorders import console_views, services
from workorders.models import DispatchDecision, WorkOrder, WorkOrderEvent
from workorders.services.common import crew_refresh_status
from workorders.tests.factories import force_status, make_crew, make_order, reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"  # the root conftest's role users
APPEAR_WITHIN_MS = 6_000


@pytest.fixture
def city():
    """Reference rows, a small feeder in Futian and three crews 0, ~1.5 and ~3 km from the
    transformers under switch S1."""
    reference_data()
    net = build_network()
    crews = [make_crew(dlat=0.0013 + 0.01 * i, dlng=0.0013 + 0.01 * i) for i in range(3)]
    for i, crew in enumerate(crews):
        crew.name = ["福田一班", "福田二班", "华强班"][i]
        crew.save(update_fields=["name"])
    return net, crews


def _login(bp, user) -> None:
    """Through the login form, as a person would: /console/ sends us there and back."""
    page = bp.page
    bp.goto("/console/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.url == bp.base_url + "/console/"
    page.wait_for_function("document.documentElement.dataset.consoleReady === '1'")
    page.wait_for_function("document.documentElement.dataset.mapReady === '1'")


def _new_outage(net):
    """A predicted outage under switch S1: the events raise and dispatch its repair order."""
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"), device=net["S1"], source="rollup", actor=None
    )
    return outage, WorkOrder.objects.get(outage=outage)


def test_dispatcher_sees_a_new_order_live_and_redispatches_it(desktop_page, city, dispatcher):
    net, crews = city
    page = desktop_page.page
    _login(desktop_page, dispatcher)
    page.wait_for_selector("#orders-empty:not([hidden])")
    assert page.locator("#order-list li").count() == 0
    desktop_page.screenshot("1-empty", full_page=False)

    # When an outage is predicted while the page is open
    outage, order = _new_outage(net)
    first_crew = order.crew
    assert order.status == WorkOrder.Status.DISPATCHED
    assert first_crew == crews[0]

    # Then its work order appears in the list, and the outage on the map, without a reload
    started = time.monotonic()
    row = page.wait_for_selector(
        f'#order-list [data-order-id="{order.pk}"]', timeout=APPEAR_WITHIN_MS
    )
    assert time.monotonic() - started < APPEAR_WITHIN_MS / 1000
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert "停电抢修" in row.inner_text()
    assert first_crew.name in row.inner_text()
    assert page.locator("#count-outages").inner_text() == "1"
    # dispatching the order moved the outage on from "predicted" (a solid area now)
    assert page.locator("path.outage-area.area-active").count() == 1
    assert page.locator("path.order-marker").count() == 1
    assert page.locator(".crew-marker").count() == 3

    # When the dispatcher opens the order
    row.click()
    detail = page.locator(f'#detail-body[data-order-id="{order.pk}"]')
    detail.wait_for()
    # Then the detail shows the timeline and why the crew was chosen
    why = detail.locator("section.why")
    assert "为什么是这个班组" in why.inner_text()
    assert why.locator("tr.chosen").inner_text().count(first_crew.name) == 1
    assert why.locator("tbody tr").count() == 3
    assert "路程时间" in why.inner_text()
    assert detail.locator(".timeline li").count() >= 2
    assert detail.locator(f"text=关联停电 #{outage.pk}").count() == 1
    desktop_page.screenshot("2-order-detail", full_page=False)

    # When they choose to re-dispatch
    detail.locator('[data-action="dispatch"]').click()
    dialog = page.locator("#dispatch-dialog")
    dialog.wait_for()
    assert dialog.locator("#dispatch-title").inner_text() == "改派"
    rows = dialog.locator("#dispatch-suggestions tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3
    # the current crew is ranked but cannot be picked; the best other crew is preselected
    current = dialog.locator(f'tbody tr[data-crew-id="{first_crew.pk}"]')
    assert current.locator("input[type=radio]").is_disabled()
    picked = dialog.locator("tbody tr.picked")
    assert picked.get_attribute("data-crew-id") == str(crews[1].pk)
    # and they pick the third-ranked crew instead
    target = crews[2]
    dialog.locator(f'tbody tr[data-crew-id="{target.pk}"] td').nth(2).click()
    assert dialog.locator("tbody tr.picked").get_attribute("data-crew-id") == str(target.pk)
    assert target.name in dialog.locator("#dispatch-submit").inner_text()
    page.wait_for_selector(".crew-marker.candidate")
    dialog.locator("#dispatch-reason").fill("华强班离变压器更近")
    desktop_page.screenshot("3-redispatch-dialog", full_page=False)
    dialog.locator("#dispatch-submit").click()

    # Then the dialog closes and the detail shows the new crew
    page.wait_for_selector("#dispatch-dialog", state="hidden")
    page.wait_for_selector("#toast:not([hidden])")
    detail.locator(".kv.crew dd", has_text=target.name).wait_for()
    page.locator(f'#order-list [data-order-id="{order.pk}"]', has_text=target.name).wait_for()
    desktop_page.screenshot("4-after-redispatch", full_page=False)

    # And the database agrees: a new crew, and the re-dispatch in the timeline
    order.refresh_from_db()
    assert order.crew_id == target.pk
    assert order.status == WorkOrder.Status.DISPATCHED
    events = list(order.events.order_by("at", "pk"))
    withdrawn = [
        e
        for e in events
        if e.kind == WorkOrderEvent.Kind.STATUS_CHANGED
        and e.to_status == WorkOrder.Status.REJECTED
        and e.data.get("cause") == "reassigned"
    ]
    assert len(withdrawn) == 1
    assert withdrawn[0].actor_id == dispatcher.pk
    assert withdrawn[0].crew_id == first_crew.pk
    assert withdrawn[0].reason == "华强班离变压器更近"
    redispatched = [
        e for e in events if e.to_status == WorkOrder.Status.DISPATCHED and e.crew_id == target.pk
    ]
    assert redispatched
    assert redispatched[-1].pk > withdrawn[0].pk
    decision = order.decisions.order_by("-at", "-pk").first()
    assert (decision.mode, decision.crew_id) == (DispatchDecision.Mode.MANUAL, target.pk)
    assert decision.actor_id == dispatcher.pk

    # The same page at full HD
    page.set_viewport_size({"width": 1920, "height": 1080})
    desktop_page.wait_for_paint()
    desktop_page.screenshot("5-1920x1080", full_page=False)
    assert desktop_page.console_errors == []


def test_a_conflicting_action_shows_the_refusal_in_the_dialog(desktop_page, city, dispatcher):
    net, crews = city
    page = desktop_page.page
    _login(desktop_page, dispatcher)
    _outage, order = _new_outage(net)
    page.wait_for_selector(f'#order-list [data-order-id="{order.pk}"]', timeout=APPEAR_WITHIN_MS)
    page.click(f'#order-list [data-order-id="{order.pk}"] button')
    page.locator(f'#detail-body[data-order-id="{order.pk}"]').wait_for()
    page.click('#detail-body [data-action="dispatch"]')
    page.locator("#dispatch-suggestions tbody tr.picked").wait_for()

    # Given somebody else re-dispatches the order while the dialog is open
    services.work_order_assign(order=order, crew=crews[2], actor=None, reason="另一位调度员")

    # When this dispatcher confirms their choice (made on the old version)
    page.click("#dispatch-submit")

    # Then the refusal is shown in the dialog, which stays open, and nothing changed
    error = page.locator("#dispatch-error")
    error.wait_for(state="visible")
    assert error.get_attribute("data-code") == "concurrent_update"
    assert "冲突" in error.inner_text()
    assert "已载入最新状态" in error.inner_text()
    assert page.locator("#dispatch-dialog").is_visible()
    desktop_page.screenshot("conflict", full_page=False)
    order.refresh_from_db()
    assert order.crew_id == crews[2].pk
    # and the detail behind it has been reloaded with the other dispatcher's change
    page.locator("#detail-body .kv.crew dd", has_text=crews[2].name).wait_for()
    # and the crews are ranked again for the new state, the other dispatcher's crew as current
    page.locator(f'#dispatch-suggestions tr.current[data-crew-id="{crews[2].pk}"]').wait_for()
    assert crews[2].name in page.locator("#dispatch-order").inner_text()

    # A deliberate second try, on the fresh state, goes through
    picked = int(page.locator("#dispatch-suggestions tr.picked").get_attribute("data-crew-id"))
    assert picked != crews[2].pk
    page.click("#dispatch-submit")
    page.wait_for_selector("#dispatch-dialog", state="hidden")
    order.refresh_from_db()
    assert order.crew_id == picked
    assert all("409" in e for e in desktop_page.console_errors)


def test_confirming_a_predicted_outage_and_setting_its_etr(desktop_page, city, dispatcher):
    net, crews = city
    page = desktop_page.page
    # No crew on duty: the order waits and the outage stays predicted
    for crew in crews:
        services.crew_set_on_duty(crew=crew, on_duty=False, actor=None)
    outage, order = _new_outage(net)
    assert outage.status == "predicted"
    assert order.crew_id is None
    _login(desktop_page, dispatcher)
    page.click(f'#order-list [data-order-id="{order.pk}"] button')
    detail = page.locator(f'#detail-body[data-order-id="{order.pk}"]')
    detail.wait_for()

    assert page.locator("path.outage-area.area-predicted").count() == 1
    detail.locator('[data-action="confirm"]').click()
    page.click("#action-submit")
    page.wait_for_selector("#action-dialog", state="hidden")
    # A confirmed outage offers no confirm button any more
    detail.locator('[data-action="confirm"]').wait_for(state="detached")
    outage.refresh_from_db()
    assert outage.status == "confirmed"
    page.wait_for_selector("path.outage-area.area-active")

    detail.locator('[data-action="etr"]').click()
    page.fill("#action-etr", "2099-01-01T18:30")
    page.fill("#action-reason", "等待备件")
    page.click("#action-submit")
    page.wait_for_selector("#action-dialog", state="hidden")
    outage.refresh_from_db()
    assert outage.etr is not None
    assert outage.etr.isoformat().startswith("2099-01-01T10:30")  # 18:30 Beijing time, in UTC

    # Cancelling needs a reason: the dialog says so and sends nothing
    detail.locator('[data-action="cancel"]').click()
    page.click("#action-submit")
    assert page.locator("#action-error").inner_text() == "请填写原因。"
    order.refresh_from_db()
    assert order.status != WorkOrder.Status.CANCELLED
    assert desktop_page.console_errors == []


def test_publishing_to_the_pool_and_merging_a_duplicate(desktop_page, city, dispatcher):
    page = desktop_page.page
    first = make_order(title="莲花路 3 栋停电")
    duplicate = make_order(title="莲花路 3 栋停电（重复来电）", dlat=0.0002)
    _login(desktop_page, dispatcher)

    # Publish the first to the grab pool, for ten minutes
    page.click(f'#order-list [data-order-id="{first.pk}"] button')
    detail = page.locator(f'#detail-body[data-order-id="{first.pk}"]')
    detail.wait_for()
    detail.locator('[data-action="publish"]').click()
    page.select_option("#action-ttl", "600")
    page.click("#action-submit")
    page.wait_for_selector("#action-dialog", state="hidden")
    detail.locator(".chip-status.status-published").wait_for()
    first.refresh_from_db()
    assert first.status == WorkOrder.Status.PUBLISHED
    assert (first.pool_expires_at - first.published_at).total_seconds() == 600

    # Merge the duplicate into it
    page.click(f'#order-list [data-order-id="{duplicate.pk}"] button')
    detail = page.locator(f'#detail-body[data-order-id="{duplicate.pk}"]')
    detail.wait_for()
    detail.locator('[data-action="merge"]').click()
    assert page.locator(f'#merge-targets option[value="{first.pk}"]').count() == 1
    page.fill("#action-into", str(first.pk))
    page.fill("#action-reason", "同一栋楼的重复来电")
    desktop_page.screenshot("merge-dialog", full_page=False)
    page.click("#action-submit")
    page.wait_for_selector("#action-dialog", state="hidden")
    duplicate.refresh_from_db()
    assert duplicate.status == WorkOrder.Status.MERGED
    assert duplicate.merged_into_id == first.pk
    # A merged order leaves the list of open orders
    page.locator(f'#order-list [data-order-id="{duplicate.pk}"]').wait_for(state="detached")
    assert desktop_page.console_errors == []


def test_feed_is_polled_with_etags_and_paused_in_a_hidden_tab(
    desktop_page, city, dispatcher, monkeypatch
):
    monkeypatch.setattr(console_views, "POLL_SECONDS", 1)
    page = desktop_page.page
    asked: list[str] = []
    answers: list[int] = []
    page.on("request", lambda r: asked.append(r.url) if "/console/feed.json" in r.url else None)
    page.on(
        "response",
        lambda r: answers.append(r.status) if "/console/feed.json" in r.url else None,
    )
    _login(desktop_page, dispatcher)

    # Unchanged data: the page keeps asking, and gets bodiless 304s
    while len(answers) < 3:
        page.wait_for_event("response", predicate=lambda r: "/console/feed.json" in r.url)
    assert answers[0] == 200
    assert set(answers[1:]) == {304}

    # A hidden tab stops asking ...
    page.evaluate(
        """() => {
            Object.defineProperty(
                document, "visibilityState", {value: "hidden", configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_selector("#live-text:has-text('已暂停')")
    # A poll already scheduled when the tab was hidden does not ask; one in flight is answered.
    while len(answers) < len(asked):
        page.wait_for_event("response", predicate=lambda r: "/console/feed.json" in r.url)
    count = len(asked)
    page.wait_for_timeout(3_000)  # three poll periods: an absence can only be watched
    assert len(asked) == count
    assert "已暂停" in page.locator("#live-text").inner_text()

    # ... and catches up at once when it is shown again
    _outage, order = _new_outage(city[0])
    page.evaluate(
        """() => {
            Object.defineProperty(
                document, "visibilityState", {value: "visible", configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    # (the hidden tab scheduled no further poll: only the visibility change can ask)
    page.wait_for_selector(f'#order-list [data-order-id="{order.pk}"]')
    assert len(asked) > count
    assert desktop_page.console_errors == []


def test_console_in_english(desktop_page, city, dispatcher):
    net, _crews = city
    page = desktop_page.page
    _outage, order = _new_outage(net)
    _login(desktop_page, dispatcher)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_function("document.documentElement.dataset.consoleReady === '1'")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title().startswith("Dispatch console")
    assert page.locator("#tab-orders").inner_text().startswith("Orders")
    assert "Live" in page.locator("#live-text").inner_text()
    page.click(f'#order-list [data-order-id="{order.pk}"] button')
    detail = page.locator(f'#detail-body[data-order-id="{order.pk}"]')
    detail.wait_for()
    assert "Why this crew" in detail.inner_text()
    desktop_page.screenshot("english", full_page=False)
    assert desktop_page.console_errors == []


def test_hotline_agent_is_refused(desktop_page, hotline_agent):
    page = desktop_page.page
    desktop_page.goto("/console/")
    page.fill("#id_username", hotline_agent.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    response = page.goto(desktop_page.base_url + "/console/")
    assert response.status == 403
    assert "无权使用调度台" in page.locator("h1").inner_text()
    assert page.locator("#console-map").count() == 0


def _busy_city(net, crews):
    """A storm afternoon: three outages, orders all over the city in every state."""
    rng = random.Random(7)
    extra = [
        make_crew(dlat=rng.uniform(-0.06, 0.2), dlng=rng.uniform(-0.25, 0.35)) for _ in range(9)
    ]
    for i, crew in enumerate(extra):
        crew.name = f"抢修{i + 4}班"
        crew.save(update_fields=["name"])
    everyone = crews + extra
    for device in ("S1", "S2", "FU"):
        outage_services.outage_create(
            type=outage_type("fault_mv_feeder"), device=net[device], source="rollup", actor=None
        )
    titles = [
        "莲花路小区单户停电",
        "深南大道电线落地",
        "宝安西乡配变异响",
        "龙岗布吉低压线路故障",
        "南山科技园表箱冒烟",
        "罗湖东门商铺无电",
        "龙华民治路灯线路巡视",
        "福田香蜜湖投诉回访",
    ]
    kinds = [
        WorkOrder.Kind.PREMISE_REPAIR,
        WorkOrder.Kind.DANGER,
        WorkOrder.Kind.PREMISE_REPAIR,
        WorkOrder.Kind.PREMISE_REPAIR,
        WorkOrder.Kind.DANGER,
        WorkOrder.Kind.PREMISE_REPAIR,
        WorkOrder.Kind.INSPECTION,
        WorkOrder.Kind.COMPLAINT_FOLLOW_UP,
    ]
    states = [
        WorkOrder.Status.CREATED,
        WorkOrder.Status.DISPATCHED,
        WorkOrder.Status.ACCEPTED,
        WorkOrder.Status.EN_ROUTE,
        WorkOrder.Status.ON_SITE,
        WorkOrder.Status.PUBLISHED,
    ]
    now = timezone.now()
    for i in range(22):
        order = make_order(
            kind=kinds[i % len(kinds)],
            title=titles[i % len(titles)],
            dlat=rng.uniform(-0.06, 0.2),
            dlng=rng.uniform(-0.25, 0.35),
            sla_started_at=now - timedelta(minutes=rng.choice([5, 15, 38, 50, 70])),
        )
        state = states[i % len(states)]
        if state != WorkOrder.Status.CREATED:
            force_status(order, state, crew=everyone[i % len(everyone)])
        sla = ["ok", "ok", "warning", "breached"][i % 4]
        WorkOrder.objects.filter(pk=order.pk).update(sla_state=sla)
    # force_status skips the services: bring the crews' statuses in line with their orders
    crew_refresh_status([c.pk for c in everyone])


def test_busy_console_at_both_desktop_sizes(desktop_page, city, dispatcher):
    net, crews = city
    page = desktop_page.page
    _busy_city(net, crews)
    _login(desktop_page, dispatcher)
    assert page.locator("#order-list li").count() == 25
    assert page.locator("path.order-marker").count() == 25
    assert page.locator(".crew-marker").count() == 12
    assert page.locator("#attention li").count() == 8
    desktop_page.screenshot("1366x800", full_page=False)
    breached = page.locator("#order-list li.sla-breached").first
    breached.locator("button").click()
    page.locator("#detail-body[data-order-id]").wait_for()
    page.set_viewport_size({"width": 1920, "height": 1080})
    desktop_page.wait_for_paint()
    desktop_page.screenshot("1920x1080", full_page=False)
    page.click("#tab-crews")
    page.set_viewport_size({"width": 1366, "height": 800})
    desktop_page.wait_for_paint()
    desktop_page.screenshot("crews-tab", full_page=False)
    page.click("#tab-outages")
    assert page.locator("#outage-list li").count() == 3
    desktop_page.screenshot("outages-tab", full_page=False)
    assert desktop_page.console_errors == []
