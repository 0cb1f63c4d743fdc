"""The crews' phone app at /crew/ on a phone (Chromium with touch emulation): an offer
arriving and accepted, the grab pool won and lost, the field sequence to completion with a
photo and a signature, an action taken offline delivered once, spare parts against stock.

Screenshots of each screen go to ``test-artifacts/crew-*.png`` (and to ``CREW_SHOTS`` when
that variable names a directory)."""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from fieldapp.models import CustomerSignoff, PartMove, SparePart, StationStock
from workorders import services
from workorders.models import CrewActionRecord, WorkOrder, WorkOrderPhoto
from workorders.tests.factories import (
    crew_user,
    force_status,
    make_crew,
    make_order,
    reference_data,
)

from .conftest import ARTIFACTS, _is_local

S = WorkOrder.Status
PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.django_db(transaction=True)


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([40, 120, 200]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class CrewPhone:
    """A crew member's phone: a touch-enabled mobile context signed in as ``user``."""

    def __init__(self, browser, live_server, user, name: str) -> None:
        session = Client()
        session.force_login(user)
        self.base = live_server.url
        self.name = name
        self.errors: list[str] = []
        self.context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            geolocation={"latitude": 22.5401, "longitude": 114.0502},
            permissions=["geolocation"],
        )
        self.context.set_default_timeout(15_000)
        self.context.add_cookies(
            [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": self.base}]
        )
        self.context.route(
            "**/*", lambda r: r.continue_() if _is_local(r.request.url) else r.abort()
        )
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open(self, hash_: str = "#/orders") -> None:
        self.page.goto(f"{self.base}/crew/{hash_}")
        self.page.wait_for_function("document.documentElement.dataset.appReady === '1'")

    def shot(self, label: str, target: str | None = None) -> None:
        """A phone-screen screenshot, scrolled to ``target`` (a selector) when given."""
        if target is not None:
            self.page.locator(target).first.wait_for()
            # Scrolled in the page itself: the element may be re-rendered meanwhile.
            self.page.evaluate(
                "sel => document.querySelector(sel)?.scrollIntoView({block: 'center'})", target
            )
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        targets = [ARTIFACTS]
        if os.environ.get("CREW_SHOTS"):
            targets.append(Path(os.environ["CREW_SHOTS"]))
        for directory in targets:
            directory.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(directory / f"crew-{label}.png"))


@pytest.fixture
def crew_setup(settings) -> dict:
    settings.FIELDAPP_POLL_SECONDS = 1
    reference_data()
    crew = make_crew()
    return {"crew": crew, "user": crew_user(crew)}


@pytest.fixture
def phone(browser, live_server, crew_setup, request) -> Iterator[CrewPhone]:
    device = CrewPhone(browser, live_server, crew_setup["user"], request.node.name)
    try:
        yield device
        assert not device.errors
    finally:
        device.context.close()


def _wait_db(page, predicate, timeout_ms: int = 15_000) -> None:
    """Wait (polling the database between animation frames) until ``predicate()`` holds."""
    waited = 0
    while not predicate():
        assert waited < timeout_ms, "condition not reached in the database"
        page.wait_for_timeout(100)
        waited += 100


def _check_map_links(page, order) -> None:
    """Amap and Tencent get GCJ-02, Baidu BD-09, the system map WGS-84 (as the server's
    conversion computes them)."""
    from math import atan2, cos, sin, sqrt
    from urllib.parse import parse_qs, urlparse

    from outages.publicmap.coords import wgs84_to_gcj02

    glat, glng = wgs84_to_gcj02(order.lat, order.lng)
    x_pi = 3.141592653589793 * 3000.0 / 180.0
    z = sqrt(glng * glng + glat * glat) + 0.00002 * sin(glat * x_pi)
    theta = atan2(glat, glng) + 0.000003 * cos(glng * x_pi)
    blat, blng = z * sin(theta) + 0.006, z * cos(theta) + 0.0065

    def query(name: str) -> dict:
        return parse_qs(urlparse(page.locator(f"[data-map='{name}']").get_attribute("href")).query)

    amap_lng, amap_lat = map(float, query("amap")["position"][0].split(","))
    assert abs(amap_lat - glat) < 1e-5
    assert abs(amap_lng - glng) < 1e-5
    assert abs(glat - order.lat) > 1e-4  # the offset is real in Shenzhen
    baidu = query("baidu")
    assert baidu["coord_type"] == ["bd09ll"]
    baidu_lat, baidu_lng = map(float, baidu["location"][0].split(","))
    assert abs(baidu_lat - blat) < 1e-5
    assert abs(baidu_lng - blng) < 1e-5
    tencent = query("tencent")["marker"][0]
    assert f"coord:{glat:.6f},{glng:.6f}" in tencent
    system = page.locator("[data-map='system']").get_attribute("href")
    assert system.startswith(f"geo:{order.lat:.6f},{order.lng:.6f}")


def _settled(page) -> None:
    """Wait until the order screen has redrawn after the last action."""
    page.wait_for_function("document.documentElement.dataset.busy !== '1'")


def test_an_offer_arrives_and_is_accepted(phone, crew_setup):
    # Given the crew's phone on "my orders", with nothing to do
    phone.open()
    page = phone.page
    page.get_by_text("暂无工单").wait_for()
    phone.shot("orders-empty")
    # When the dispatcher's engine offers an order to the crew
    order = force_status(
        make_order(title="福田路 12 号停电"), S.DISPATCHED, crew=crew_setup["crew"]
    )
    # Then it shows up without a reload, with an alert, and the crew member accepts it
    page.locator(".alert.offer").wait_for()
    card = page.locator(f"article[data-order='{order.pk}']")
    card.wait_for()
    phone.shot("orders-offer")
    card.get_by_role("button", name="接单").tap()
    _wait_db(page, lambda: WorkOrder.objects.get(pk=order.pk).status == S.ACCEPTED)
    card.locator(".status", has_text="已接单").wait_for()
    phone.shot("orders-accepted")
    # And the app is available in English
    page.get_by_role("button", name="English").tap()
    page.locator(".tabs a", has_text="My orders").wait_for()
    page.locator(f"article[data-order='{order.pk}']").wait_for()
    page.locator("#duty", has_text="On duty").wait_for()
    phone.shot("orders-english")


def test_a_pool_claim_won_and_one_lost(phone, crew_setup):
    # Given two orders published to the pool near the crew
    won = make_order(title="抢单：华强北变压器")
    lost = make_order(title="抢单：车公庙线路", dlat=0.002)
    for order in (won, lost):
        services.work_order_publish(order=order, actor=None)
    rival = make_crew(dlat=0.001)
    phone.open("#/pool")
    page = phone.page
    page.locator(f"[data-claim='{lost.pk}']").wait_for()
    phone.shot("pool")
    # When another crew takes one first and our crew taps it, the lost race is shown kindly
    services.work_order_claim(order_id=lost.pk, crew=rival, actor=None)
    page.locator(f"[data-claim='{lost.pk}']").tap()
    page.locator(".alert.lost", has_text="晚了一步").wait_for()
    phone.shot("pool-lost")
    assert WorkOrder.objects.get(pk=lost.pk).crew_id == rival.pk
    # And the other one is ours: the app opens it, ready to accept
    page.locator(f"[data-claim='{won.pk}']").tap()
    page.wait_for_url(f"**/crew/#/order/{won.pk}")
    page.locator("article.order[data-status='claimed']").wait_for()
    claimed = WorkOrder.objects.get(pk=won.pk)
    assert (claimed.status, claimed.crew_id) == (S.CLAIMED, crew_setup["crew"].pk)


def test_the_field_sequence_to_completion_with_photo_and_signature(phone, crew_setup):
    # Given an accepted order
    crew = crew_setup["crew"]
    order = force_status(
        make_order(title="园岭新村 3 栋停电", address="福田区园岭新村 3 栋"),
        S.ACCEPTED,
        crew=crew,
        accepted_at=None,
    )
    phone.open(f"#/order/{order.pk}")
    page = phone.page
    page.locator("article.order[data-status='accepted']").wait_for()
    _check_map_links(page, order)
    phone.shot("order-accepted")
    # When the crew sets off and arrives (with the phone's position)
    page.get_by_role("button", name="出发").tap()
    page.locator("article.order[data-status='en_route']").wait_for()
    page.get_by_role("button", name="到达现场").tap()
    page.locator("article.order[data-status='on_site']").wait_for()
    # And records findings with a cause and a photo from the camera
    form = page.locator("form.findings")
    form.locator("select[name=cause]").select_option(index=1)
    form.locator("textarea[name=note]").fill("熔断器熔断，已更换")
    form.locator("input[name=photos]").set_input_files(
        files=[{"name": "site.png", "mimeType": "image/png", "buffer": png_bytes(64, 48)}]
    )
    phone.shot("order-findings", "form.findings")
    form.get_by_role("button", name="提交勘查").tap()
    _wait_db(page, lambda: WorkOrderPhoto.objects.filter(order=order).count() == 1)
    _settled(page)
    # And the customer signs on the screen
    sign = page.locator("form.signoff")
    sign.wait_for()
    sign.locator("input[name=signer_name]").fill("王女士")
    sign.locator("canvas").scroll_into_view_if_needed()
    box = sign.locator("canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 30)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 30 + (step % 3) * 30)
    page.mouse.up()
    phone.shot("order-signature", "form.signoff")
    sign.get_by_role("button", name="提交签字").tap()
    _wait_db(page, lambda: CustomerSignoff.objects.filter(order=order).exists())
    # And restores supply and completes
    page.get_by_role("button", name="恢复送电").tap()
    _wait_db(page, lambda: WorkOrder.objects.get(pk=order.pk).restored_at is not None)
    page.locator("input[name=complete_note]").fill("已恢复供电")
    page.get_by_role("button", name="完工").tap()
    page.locator("article.order[data-status='completed']").wait_for()
    phone.shot("order-completed")
    # Then the order is complete with its position, findings, photo and signature
    done = WorkOrder.objects.get(pk=order.pk)
    assert done.status == S.COMPLETED
    assert done.cause_id is not None
    assert "熔断器" in done.findings
    signoff = CustomerSignoff.objects.get(order=order)
    assert (signoff.kind, signoff.signer_name) == ("signature", "王女士")
    assert signoff.image.read(8) == b"\x89PNG\r\n\x1a\n"
    assert crew.locations.exists()
    assert page.locator("#app").get_attribute("data-conflicts") == "0"


def test_an_action_taken_offline_is_delivered_once(phone, crew_setup):
    # Given an accepted order open on the phone
    order = force_status(make_order(title="离线测试"), S.ACCEPTED, crew=crew_setup["crew"])
    phone.open(f"#/order/{order.pk}")
    page = phone.page
    page.locator("article.order[data-status='accepted']").wait_for()
    # When the signal drops and the crew member sets off
    phone.context.set_offline(True)
    page.get_by_role("button", name="出发").tap()
    # Then the action waits on the phone, shown as waiting to send
    page.locator(".pending .waiting", has_text="出发").wait_for()
    page.locator("#net", has_text="等待发送").wait_for()
    phone.shot("offline-waiting")
    assert WorkOrder.objects.get(pk=order.pk).status == S.ACCEPTED
    # When the signal comes back, it is sent, and later runs of the outbox send nothing more
    phone.context.set_offline(False)
    _wait_db(page, lambda: WorkOrder.objects.get(pk=order.pk).status == S.EN_ROUTE)
    page.wait_for_function("document.getElementById('app').dataset.waiting === '0'")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function(
        "Number(document.documentElement.dataset.ordersLoaded) > Date.now() - 500"
    )
    fresh = WorkOrder.objects.get(pk=order.pk)
    assert fresh.events.filter(to_status=S.EN_ROUTE).count() == 1
    record = CrewActionRecord.objects.get(order=order)
    assert record.status_code == 200
    # The action kept the time it was taken (its own timestamp, not the delivery's)
    assert fresh.departed_at is not None


def test_parts_requested_and_used_against_stock(phone, crew_setup):
    # Given 2 fuses at the crew's station and an order on site
    crew = crew_setup["crew"]
    part = SparePart.objects.create(code="FUSE-10A", name="熔断器 10A", unit="只")
    StationStock.objects.create(station=crew.station, part=part, quantity=2)
    order = force_status(make_order(title="备件测试"), S.ON_SITE, crew=crew)
    phone.open("#/parts")
    page = phone.page
    page.locator("tr[data-part='FUSE-10A'] .mine", has_text="2").wait_for()
    phone.shot("parts")
    phone.page.goto(f"{phone.base}/crew/#/order/{order.pk}")
    form = page.locator("form.parts-form")
    form.wait_for()
    # When one is taken for the order and then used
    form.locator("input[name=quantity]").fill("1")
    form.get_by_role("button", name="领用").tap()
    page.locator(".moves li", has_text="领用").wait_for()
    assert StationStock.objects.get(part=part).quantity == 1
    page.locator("form.parts-form").get_by_role("button", name="消耗").tap()
    page.locator(".moves li", has_text="消耗").wait_for()
    page.locator("[data-held='FUSE-10A']", has_text="持有 0").wait_for()
    # And more is asked for than the station holds: refused, shown, stock unchanged
    page.locator("form.parts-form input[name=quantity]").fill("5")
    page.locator("form.parts-form").get_by_role("button", name="领用").tap()
    page.locator(".alert.error", has_text="库存不足").wait_for()
    phone.shot("parts-order", "form.parts-form")
    # Then the stock and the moves add up
    assert StationStock.objects.get(part=part).quantity == 1
    assert list(PartMove.objects.order_by("pk").values_list("kind", "quantity")) == [
        ("request", 1),
        ("use", 1),
    ]


def test_the_shell_starts_offline_after_the_first_visit(phone, crew_setup):
    # Given a first visit online, which installs the service worker and its cache
    order = force_status(make_order(title="离线启动"), S.ACCEPTED, crew=crew_setup["crew"])
    phone.open()
    page = phone.page
    page.locator(f"article[data-order='{order.pk}']").wait_for()
    page.wait_for_function("document.documentElement.dataset.swReady === '1'")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    # (The shell's weight: the page and every script, style and icon it loaded, compressed;
    # the API's data is not part of it. The target is under 150 KB, with no CDN.)
    urls = page.evaluate(
        "[location.href.split('#')[0], ...performance.getEntriesByType('resource')"
        ".map(e => e.name).filter(u => !u.includes('/api/'))]"
    )
    assert all(_is_local(url) for url in urls)
    weight = sum(len(gzip.compress(page.request.get(url).body(), 6)) for url in set(urls))
    (ARTIFACTS / "crew-shell-weight.txt").write_text(
        f"{len(set(urls))} files, {weight} bytes gzip\n"
    )
    assert weight < 150 * 1024
    # When the phone has no signal and the app is opened again
    phone.context.set_offline(True)
    page.reload()
    page.wait_for_function("document.documentElement.dataset.appReady === '1'")
    # Then the shell and the last known orders show, and actions can still be queued
    page.locator(f"article[data-order='{order.pk}']").wait_for()
    page.locator("#net", has_text="离线").wait_for()
    phone.shot("offline-start")


def test_a_queued_action_refused_on_delivery_is_shown(phone, crew_setup):
    # Given an accepted order and a crew member who sets off while offline
    order = force_status(make_order(title="冲突测试"), S.ACCEPTED, crew=crew_setup["crew"])
    phone.open(f"#/order/{order.pk}")
    page = phone.page
    page.locator("article.order[data-status='accepted']").wait_for()
    phone.context.set_offline(True)
    page.get_by_role("button", name="出发").tap()
    page.locator(".pending .waiting", has_text="出发").wait_for()
    # When the order is cancelled meanwhile and the signal comes back
    force_status(order, S.CANCELLED)
    phone.context.set_offline(False)
    # Then the refusal is shown to the crew member and kept in the outbox, not dropped
    page.locator(".alert.error", has_text="未能送达").wait_for()
    page.goto(f"{phone.base}/crew/#/outbox")
    page.locator("article.conflict", has_text="出发").wait_for()
    phone.shot("outbox-conflict")
    assert WorkOrder.objects.get(pk=order.pk).departed_at is None
    page.get_by_role("button", name="知道了").tap()
    page.get_by_text("全部已发送").wait_for()


def test_duty_and_position_pings(phone, crew_setup, settings):
    # Given a crew member on duty whose phone may share its position
    settings.FIELDAPP_PING_SECONDS = 1
    crew = crew_setup["crew"]
    phone.open()
    page = phone.page
    # Then the position is sent in batches to the crew API
    _wait_db(page, lambda: crew.locations.filter(lat=22.5401, lng=114.0502).exists())
    # When the crew member goes off duty
    page.locator("#duty", has_text="在岗").tap()
    page.locator("#duty.off", has_text="下班").wait_for()
    crew.refresh_from_db()
    assert crew.on_duty is False
    phone.shot("off-duty")
