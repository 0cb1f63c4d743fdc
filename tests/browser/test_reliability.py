"""The frequent-outage panel of the dispatcher console and the agent page's line, in a real
browser: alerts listed unacknowledged and frequent first, acknowledged, an inspection order
raised from one; the preview of a planned outage not yet published; a caller's count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services as outage_services
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type
from reliability import services as reliability_services
from reliability.models import FrequentOutageAlert, FrequentOutagePolicy
from reliability.tests.conftest import days_ago, past_outage
from workorders.models import WorkOrder
from workorders.tests.factories import reference_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


@pytest.fixture
def history():
    """T1's three customers frequent (4 in 60 days), T3's three warned (2 in 30 days), and a
    planned outage on S2 (T3) not yet published."""
    reference_data()
    FrequentOutagePolicy.objects.update_or_create(
        is_active=True, defaults={"period": "rolling_365", "warning_recent": [[50, 3], [30, 2]]}
    )
    net = build_network()
    for n in (50, 40, 30, 20):
        past_outage(net, "T1", days_ago(n))
    for n in (25, 10):
        past_outage(net, "T3", days_ago(n))
    reliability_services.frequent_outage_scan_now()
    start = timezone.now() + timedelta(days=8)
    outage_services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[net["S2"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="S2 计划检修",
        actor=None,
    )
    return net


def _login(bp, user, path):
    page = bp.page
    bp.goto(f"/accounts/login/?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def test_console_alert_panel(desktop_page, dispatcher, history):
    page = desktop_page.page
    _login(desktop_page, dispatcher, "/console/")
    page.wait_for_function("document.getElementById('reliability-panel').dataset.loaded === '1'")
    items = page.locator("#rel-alerts .rel-alert")
    assert items.count() == 6
    levels = [items.nth(i).get_attribute("data-level") for i in range(6)]
    assert levels == ["frequent"] * 3 + ["warning"] * 3
    assert page.locator("#rel-unack").inner_text() == "6"
    assert "T1" in items.first.inner_text()
    # the planned outage on S2 would make T3's customers 3 in 50 days: a warning they have
    # already, so none move; T3 is warning, so the preview says 0 into frequent
    page.wait_for_function("document.getElementById('rel-previews').dataset.loaded === '1'")
    preview = page.locator("#rel-previews .rel-preview")
    assert preview.count() == 1
    assert "S2 计划检修" in preview.inner_text()
    desktop_page.screenshot("panel", full_page=False)

    # When the dispatcher acknowledges the first alert
    first_id = items.first.get_attribute("data-alert-id")
    items.first.locator(".rel-ack").click()
    page.wait_for_function("document.getElementById('rel-unack').textContent === '5'")
    # Then it moves behind the unacknowledged ones
    last = page.locator("#rel-alerts .rel-alert").last
    assert last.get_attribute("data-alert-id") == first_id
    assert FrequentOutageAlert.objects.get(pk=first_id).acknowledged_by == dispatcher

    # When an inspection order is raised from the (new) first alert
    target = page.locator("#rel-alerts .rel-alert").first
    target_id = target.get_attribute("data-alert-id")
    target.locator(".rel-inspect").click()
    page.locator(f"[data-alert-id='{target_id}'] .rel-order").wait_for()
    alert = FrequentOutageAlert.objects.get(pk=target_id)
    order = WorkOrder.objects.get(pk=alert.work_order_id)
    assert order.kind == WorkOrder.Kind.INSPECTION
    assert order.service_point_id == alert.service_point_id
    assert str(order.pk) in page.locator(f"[data-alert-id='{target_id}'] .rel-order").inner_text()
    assert desktop_page.console_errors == []


def test_console_preview_counts_customers_pushed_into_frequent(desktop_page, dispatcher):
    reference_data()
    FrequentOutagePolicy.objects.update_or_create(
        is_active=True, defaults={"period": "rolling_365", "warning_recent": [[50, 3], [30, 2]]}
    )
    net = build_network()
    for n in (50, 35, 20):
        past_outage(net, "T1", days_ago(n))  # three in 60 days: not yet frequent
    # the planned outage, 8 days ahead, would be the fourth within 59 days
    start = timezone.now() + timedelta(days=8)
    outage_services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[net["S1"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="S1 计划检修",
        actor=None,
    )
    page = desktop_page.page
    _login(desktop_page, dispatcher, "/console/")
    page.wait_for_function("document.getElementById('rel-previews').dataset.loaded === '1'")
    text = page.locator("#rel-previews .rel-preview").inner_text()
    # T1 (3 customers) → frequent (4 in 60 days); T2 (3) stays normal
    assert "3 户转为频繁停电" in text
    assert "0 户转为预警" in text


def test_agent_page_line(desktop_page, hotline_agent, history):
    sp = sorted(history.below("T1"))[0]
    page = desktop_page.page
    _login(desktop_page, hotline_agent, f"/agent/?sp={sp}")
    line = page.locator("#reliability-line")
    line.wait_for(state="visible")
    text = line.inner_text()
    assert "4 次" in text
    assert "频繁停电" in text
    assert line.get_attribute("data-level") == "frequent"
    normal = sorted(history.below("T2"))[0]
    desktop_page.goto(f"/agent/?sp={normal}")
    line.wait_for(state="visible")
    assert line.get_attribute("data-level") == "normal"
    assert "0 次" in line.inner_text()
    assert desktop_page.console_errors == []
