"""The public map end to end in a real browser, on real outages and the real public API.

An outage is declared through the outage services, the publish task writes the snapshot, and
the page draws it; searching goes through ``/api/v1/public/lookup``, reporting through
``/api/v1/public/reports`` and tracking through ``/api/v1/public/reports/{reference}``;
subscribing through ``/api/v1/public/subscriptions``. Tiles are unreachable (blocked).
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from outages.models import Outage, Subscription, TroubleReport
from outages.services import outage_create
from outages.tasks.snapshot import snapshot_publish_task
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def outage_world(snapshot_dir):
    """A small network with one confirmed fault (cause, ETR) below switch S1, published."""
    network = build_network()
    cause = outage_cause("cable_fault")
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S1"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        cause=cause,
        etr=timezone.now() + timedelta(hours=2),
    )
    snapshot_publish_task.delay()  # what the outage.changed subscriber sends (eager here)
    return network, outage


def _search(page, address: str) -> None:
    page.fill("#search-input", address)
    page.click("#search-form button[type=submit]")
    # One match opens at once; several are listed: pick the exact address.
    page.wait_for_selector(
        "#result:not([hidden]) .result-head, #search-suggestions:not([hidden]) li"
    )
    if page.locator("#result:not([hidden]) .result-head").count() == 0:
        page.locator("#search-suggestions li", has_text=address).first.dispatch_event("mousedown")
        page.wait_for_selector("#result:not([hidden]) .result-head")


def test_map_draws_an_outage_published_from_real_outages(desktop_page, outage_world):
    _network, outage = outage_world
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    page = desktop_page.page

    # The summary counts the real outage and its customers
    assert page.locator("#stat-outages").inner_text() == "1"
    assert page.locator("#stat-customers").inner_text() == str(outage.customers_affected)
    assert page.locator("#district-rows tr").first.inner_text().startswith("福田区")

    # Its marker zooms into its area, whose popup tells the cause and offers updates
    popup = desktop_page.open_outage_area_popup("fault")
    assert "中压线路故障" in popup.inner_text()
    assert outage.cause.name in popup.inner_text()
    assert popup.locator("details.subscribe").count() == 1
    desktop_page.screenshot("map")
    assert desktop_page.console_errors == []


def test_map_follows_a_new_version_after_an_outage_change(phone_page, outage_world):
    net, outage = outage_world
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page
    first = page.evaluate("document.documentElement.dataset.snapshotVersion")

    # When another outage is declared and the publish task runs again
    outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net["S2"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
    )
    snapshot_publish_task.delay()
    page.evaluate("window.OutageMap.poll()")
    page.wait_for_function(f"document.documentElement.dataset.snapshotVersion !== '{first}'")

    # Then the page shows both
    assert page.locator("#stat-outages").inner_text() == "2"
    assert phone_page.console_errors == []


def test_an_affected_address_shows_cause_and_etr_and_can_subscribe(desktop_page, outage_world):
    network, outage = outage_world
    sp = network.sps["T1"][1]
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    page = desktop_page.page

    # When a customer of the outage searches their address
    _search(page, sp.address)

    # Then the answer is the known outage with its cause and ETR (real /api/v1/public/lookup)
    result = page.locator("#result")
    text = result.inner_text()
    assert "该地址目前处于停电中" in text
    assert outage.cause.name in text
    etr = timezone.localtime(outage.etr)
    assert f"{etr:%H:%M}" in text
    assert "正在评估" not in text

    # and they can subscribe to updates by SMS; the answer masks the number
    result.locator("details.subscribe summary").click()
    result.locator("details.subscribe input[name=contact]").fill("13912345678")
    result.locator("details.subscribe button[type=submit]").click()
    status = result.locator(".subscribe-status")
    status.wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('#result .subscribe-status').textContent.length > 0"
    )
    assert "139****5678" in status.inner_text()
    assert "13912345678" not in page.content()
    subscription = Subscription.objects.get()
    assert (subscription.outage_id, subscription.recipient) == (outage.pk, "13912345678")
    desktop_page.screenshot("affected-address")
    assert desktop_page.console_errors == []


def test_an_unaffected_address_offers_the_report_form_and_the_report_tracks(any_page, outage_world):
    network, _outage = outage_world
    sp = network.sps["T4"][1]  # under the fuse: not in the outage
    any_page.goto("/map/")
    any_page.wait_for_map()
    page = any_page.page

    # When a customer outside the outage searches their address
    _search(page, sp.address)
    assert "此地址暂无已知停电" in page.locator("#result").inner_text()
    any_page.screenshot("unaffected-address")

    # Then the report form opens with the address and is accepted
    page.locator("#result button", has_text="我要报修").click()
    page.wait_for_selector("#report-dialog[open]")
    assert page.input_value("#report-location") == sp.address
    page.fill("#report-phone", "13700001111")
    page.click("#report-submit")
    page.wait_for_selector("#report-done:not([hidden])")
    reference = page.locator("#report-reference").inner_text().strip()
    report = TroubleReport.objects.get(reference=reference)
    assert report.service_point_id == sp.pk
    assert report.channel == TroubleReport.Channel.WEB
    any_page.screenshot("report-accepted", full_page=False)

    # and its reference tracks: the tracking page shows its status
    page.click("#report-track-link")
    page.wait_for_url(re.compile(rf".*/map/report/{reference}$"))
    page.wait_for_selector("#track-body .status-line")
    status = page.locator("#track-body .status-line strong").inner_text()
    report.refresh_from_db()
    assert status == str(TroubleReport.Status(report.status).label)
    assert reference in page.locator(".reference").inner_text()
    any_page.screenshot("tracking")
    assert any_page.console_errors == []
