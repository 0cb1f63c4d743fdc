"""The dispatcher's hands in a real browser: an urgent order with no location placed on the map
and dispatched by hand with a reason, a fault outage declared at a device and partly
restored, a planned outage published with its customer count, the console on a 390 px phone,
and the console in English without Chinese outside names and addresses.
"""

import os
import re
from pathlib import Path

import pytest

from grids.models import Device, Grid
from outages.models import Notification, Outage
from outages.tests.conftest import build_network
from workorders import services
from workorders.models import DispatchDecision, WorkOrder
from workorders.tests.factories import make_crew, make_order, reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"
SHOTS = Path(os.environ.get("CONSOLE_SHOTS_DIR", "test-artifacts"))
# Chinese outside the data the page shows as it is (names, addresses, codes from the register).
HAN = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture
def city():
    reference_data()
    net = build_network()
    positions = {"B": (22.5405, 114.0505), "S1": (22.5410, 114.0510), "S2": (22.5385, 114.0590)}
    for code, (lat, lng) in positions.items():
        Device.objects.filter(code=code).update(lat=lat, lng=lng)
    crews = [make_crew(dlat=0.002 + 0.01 * i, dlng=0.002) for i in range(2)]
    for crew, name in zip(crews, ["福田一班", "福田二班"], strict=True):
        crew.name = name
        crew.save(update_fields=["name"])
    return net, crews


def _login(bp, user) -> None:
    page = bp.page
    bp.goto("/console/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    page.wait_for_function("document.documentElement.dataset.consoleReady === '1'")
    page.wait_for_function("document.documentElement.dataset.mapReady === '1'")


def _click_map_at(page, lat, lng) -> None:
    """Centre the map on (lat, lng) at street zoom, wait for it to stand still, click there."""
    page.wait_for_selector("#console-map.picking")
    point = page.evaluate(
        """([lat, lng]) => new Promise(done => {
            const map = window.ConsoleMap.state.map;
            map.invalidateSize({animate: false});
            const at = window.L.latLng(lat, lng);
            map.once('moveend', () => requestAnimationFrame(() => {
                const p = map.latLngToContainerPoint(at);
                done([p.x, p.y]);
            }));
            map.setView(at, 16, {animate: false});
            map.fire('moveend');
        })""",
        [lat, lng],
    )
    # Click where the map draws (lat, lng) now, whatever the layout did to its box meanwhile.
    box = page.locator("#console-map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])


def _pick_device(page, lat, lng, code) -> None:
    _click_map_at(page, lat, lng)
    page.locator(f'#pick-devices [data-device="{code}"]').click()
    page.locator("#pick-confirm:not([disabled])").click()
    page.wait_for_selector("#pick-bar", state="hidden")


def test_an_unplaced_urgent_order_is_placed_and_dispatched_by_hand(desktop_page, city, dispatcher):
    net, crews = city
    # Given an urgent hazard at an address the register lacks, and a crew that is full
    order = services.work_order_create(
        kind=WorkOrder.Kind.DANGER,
        title="电线断落",
        address="档案外的路口",
        actor=None,
        dispatch=False,
    )
    full = crews[1]
    WorkOrder.objects.filter(pk=order.pk)  # the hazard itself waits for a crew
    from grids.models import Crew

    Crew.objects.filter(pk=full.pk).update(capacity=1)
    services.work_order_assign(order=make_order(), crew=full, actor=None)
    page = desktop_page.page
    _login(desktop_page, dispatcher)

    # When the dispatcher opens it and asks for a crew
    page.locator(f'#order-list [data-order-id="{order.pk}"]').click()
    detail = page.locator(f'#detail-body[data-order-id="{order.pk}"]')
    detail.wait_for()
    detail.locator('[data-action="dispatch"]').click()
    dialog = page.locator("#dispatch-dialog")
    dialog.locator("#dispatch-none").wait_for()

    # Then they are told why in words, and every on-duty crew is offered by hand
    text = dialog.inner_text()
    assert "no_location" not in text
    assert "没有位置" in text
    dialog.locator("#dispatch-manual:not([hidden])").wait_for()
    assert dialog.locator("#dispatch-manual-crew option").count() == 3  # a prompt, two crews

    # When they place the order on the map instead
    dialog.locator("#dispatch-place").click()
    page.locator("#pick-bar:not([hidden])").wait_for()
    _click_map_at(page, 22.5400, 114.0500)
    page.locator("#pick-confirm:not([disabled])").click()
    page.wait_for_selector("#pick-bar", state="hidden")
    page.wait_for_selector(f'#detail-body[data-order-id="{order.pk}"] [data-action="dispatch"]')
    order.refresh_from_db()
    assert abs(order.lat - 22.54) < 0.001
    assert abs(order.lng - 114.05) < 0.001
    desktop_page.screenshot("placed", full_page=False)

    # and dispatch it by hand to the full crew, which the filters exclude
    page.locator(f'#detail-body[data-order-id="{order.pk}"] [data-action="dispatch"]').click()
    dialog.locator("#dispatch-suggestions tbody tr").first.wait_for()
    dialog.locator("#dispatch-manual-crew").select_option(str(full.pk))
    assert "在手工单已满" in dialog.locator("#dispatch-manual-why").inner_text()
    dialog.locator("#dispatch-submit").click()
    # Then without a reason it is refused on the spot
    dialog.locator("#dispatch-error:not([hidden])").wait_for()
    assert "原因" in dialog.locator("#dispatch-error").inner_text()
    # and with one it goes through, recorded as an override
    dialog.locator("#dispatch-reason").fill("唯一熟悉该片区的班组")
    dialog.locator("#dispatch-submit").click()
    page.wait_for_selector("#dispatch-dialog", state="hidden")
    page.wait_for_function(
        f"document.querySelector('#detail-body[data-order-id=\"{order.pk}\"] .chip-status')"
        ".textContent === '已派单'"
    )
    decision = DispatchDecision.objects.get(order=order, crew=full)
    assert decision.data["override"] is True
    assert decision.data["reason"] == "唯一熟悉该片区的班组"
    assert decision.data["excluded_for"] == ["no_capacity"]
    desktop_page.screenshot("dispatched-by-hand", full_page=False)
    assert desktop_page.console_errors == []


def test_a_fault_outage_is_declared_at_a_device_and_partly_restored(desktop_page, city, dispatcher):
    page = desktop_page.page
    _login(desktop_page, dispatcher)
    page.locator("#tab-outages").click()

    # When the dispatcher declares an outage at breaker B picked on the map
    page.locator("#declare-open").click()
    page.locator("#declare-pick").click()
    _pick_device(page, 22.5405, 114.0505, "B")
    page.locator("#declare-dialog[open]").wait_for()
    assert "B" in page.locator("#declare-device-name").inner_text()
    page.locator("#declare-type").select_option("fault_mv_feeder")
    page.locator("#declare-submit").click()
    page.wait_for_selector("#declare-dialog", state="hidden")

    # Then it is confirmed with the 11 customers below B, and listed
    outage = Outage.objects.get(device__code="B")
    assert outage.status in (Outage.Status.CONFIRMED, Outage.Status.CREW_DISPATCHED)
    assert outage.customers_affected == 11
    restore = page.locator(f'[data-restore="{outage.pk}"]')
    restore.wait_for()

    # When S2 is restored first
    restore.click()
    page.locator("#restore-device option[value=S2]").wait_for(state="attached")
    page.locator("#restore-device").select_option("S2")
    page.locator("#restore-submit").click()
    page.wait_for_selector("#restore-dialog", state="hidden")

    # Then the outage is partly restored, 8 customers still out, and the list says so
    outage.refresh_from_db()
    assert outage.status == Outage.Status.PARTIALLY_RESTORED
    assert outage.customers_affected - outage.customers_restored == 8
    page.wait_for_selector(f'[data-outage-id="{outage.pk}"] .outage-partially_restored')
    desktop_page.screenshot("partly-restored", full_page=False)
    assert desktop_page.console_errors == []


def test_a_planned_outage_is_published_with_its_customer_count(desktop_page, city, dispatcher):
    page = desktop_page.page
    _login(desktop_page, dispatcher)
    page.locator("#tab-outages").click()

    # When the dispatcher plans an outage on switch S1 picked on the map
    page.locator("#planned-open").click()
    page.locator("#planned-type").select_option("planned_maintenance")
    page.locator("#planned-pick").click()
    _pick_device(page, 22.5410, 114.0510, "S1")
    page.locator("#planned-dialog[open]").wait_for()

    # Then the customers it cuts off are shown before anything is published
    page.wait_for_selector("#planned-preview[data-customers]")
    preview = page.locator("#planned-preview").inner_text()
    assert "6" in preview
    assert not Outage.objects.exists()
    desktop_page.screenshot("planned-preview", full_page=False)

    # When it is published
    page.locator("#planned-description").fill("10kV 线路计划检修")
    page.locator("#planned-submit").click()
    page.wait_for_selector("#planned-dialog", state="hidden")

    # Then it is announced and each of the 6 customers gets the notice through the outbox
    outage = Outage.objects.get()
    assert outage.status == Outage.Status.NOTIFIED
    assert outage.customers_affected == 6
    rows = Notification.objects.filter(outage=outage, event_key=f"notice:{outage.pk}")
    assert rows.count() == 6
    assert desktop_page.console_errors == []


def test_the_console_fits_a_phone(phone_page, live_server, city, dispatcher):
    page = phone_page.page
    _login(phone_page, dispatcher)
    for language in ("zh-hans", "en"):
        if language == "en":
            page.context.add_cookies(
                [{"name": "django_language", "value": "en", "url": live_server.url}]
            )
            page.reload()
            page.wait_for_function("document.documentElement.dataset.consoleReady === '1'")
        phone_page.wait_for_paint()
        # No horizontal scroll at 390 px
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (language, width)
        # The header's names stay on one line each (no one-character-per-line wrapping)
        for selector in (".topbar .brand", ".topnav a", ".topbar .user"):
            items = page.locator(selector)
            for i in range(items.count()):
                box = items.nth(i).bounding_box()
                assert box["height"] < 32, (language, selector, box)
                assert box["x"] + box["width"] <= 390, (language, selector, box)
        # and the map is there, a real height
        assert page.locator("#console-map").bounding_box()["height"] > 300
        phone_page.screenshot(f"phone-{language}", full_page=False)


def test_the_console_in_english_shows_no_chinese_outside_names(
    browser, live_server, city, dispatcher
):
    net, crews = city
    order = services.work_order_create(
        kind=WorkOrder.Kind.DANGER, title="Wire down", address="", actor=None, dispatch=False
    )
    located = make_order(title="Outage check")
    services.work_order_assign(order=located, crew=crews[0], actor=None)
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="en-GB")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    page = context.new_page()
    try:
        page.goto(live_server.url + "/console/")
        page.fill("#id_username", dispatcher.username)
        page.fill("#id_password", PASSWORD)
        with page.expect_navigation():
            page.click("form button[type=submit]")
        page.wait_for_function("document.documentElement.dataset.consoleReady === '1'")
        names = {c.name for c in crews} | {c.station.name for c in crews}
        names |= {f"{g.name} · {g.code}" for g in Grid.objects.all()} | set(
            Grid.objects.values_list("name", flat=True)
        )
        # The lists, the legend and the header (the language menu names each language in
        # its own language)
        page.evaluate("document.querySelector('.lang-switch').remove()")
        _assert_english(page.locator("body").inner_text(), names)
        # An order's detail and its dispatch dialog
        page.locator(f'#order-list [data-order-id="{order.pk}"]').click()
        page.locator(f'#detail-body[data-order-id="{order.pk}"]').wait_for()
        _assert_english(page.locator("#detail-body").inner_text(), names)
        page.locator('[data-action="dispatch"]').click()
        page.locator("#dispatch-manual:not([hidden])").wait_for()
        _assert_english(page.locator("#dispatch-dialog").inner_text(), names)
        page.keyboard.press("Escape")
        page.locator(f'#order-list [data-order-id="{located.pk}"]').click()
        page.locator(f'#detail-body[data-order-id="{located.pk}"]').wait_for()
        _assert_english(page.locator("#detail-body").inner_text(), names)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "console-english.png"))
    finally:
        context.close()


def _assert_english(text: str, names: set[str]) -> None:
    for name in names:
        text = text.replace(name, "")
    han = [line for line in text.splitlines() if HAN.search(line)]
    assert han == [], han
