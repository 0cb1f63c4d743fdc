"""The supervisors' dashboard in a real browser: the charts are drawn (ECharts canvases from
the vendored library), the drill-down goes from the city to a district's grids, and a table's
Excel download opens with the rows the page shows."""

import io
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, User
from openpyxl import load_workbook

from dashboard import services
from dashboard.tests.conftest import DAY, PREVIOUS_DAY, build_history
from dispatch_center.core import roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


@pytest.fixture
def seeded():
    history = build_history()
    services.dashboard_compute_days(first=PREVIOUS_DAY, last=DAY + timedelta(days=1))
    services.points_award_from_calls(first=DAY, last=DAY)
    boss = User.objects.create_user("boss", password=PASSWORD)
    boss.groups.add(Group.objects.get_or_create(name=roles.SUPERVISOR)[0])
    return history, boss


def _login(bp, user, path):
    page = bp.page
    bp.goto(f"/accounts/login/?next={quote(path)}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def _charts_drawn(page):
    page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
    return page.locator(".chart[data-drawn='1'] canvas").count()


def test_charts_drill_down_and_download(desktop_page, seeded):
    history, boss = seeded
    page = desktop_page.page
    _login(desktop_page, boss, f"/dashboard/?period=month&day={DAY}")
    # then: every chart of the page is drawn on a canvas, and the headline shows June
    assert _charts_drawn(page) == page.locator(".chart").count() >= 8
    assert page.locator("#kpi-orders .kpi-value").inner_text().startswith("3")
    assert page.locator("#kpi-arrive_minutes").get_attribute("title").startswith("从工单创建")
    # when: the supervisor drills from the city into the district, then into grid 乙
    with page.expect_navigation():
        page.locator("#table-drill a.drill-link", has_text=history.district.name).click()
    _charts_drawn(page)
    with page.expect_navigation():
        page.locator("#table-drill a.drill-link", has_text="网格乙").click()
    _charts_drawn(page)
    # then: the drill table lists grid 乙's crews, the crumbs show the path
    assert "按班组" in page.locator("#section-drill h2").inner_text()
    assert "网格乙" in page.locator(".crumbs").inner_text()
    # when: the channel table is downloaded as Excel
    with page.expect_download() as info:
        page.locator(".dl-xlsx[data-table='reports']").click()
    content = info.value.path().read_bytes()
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    # then: the same rows as the table on the page (grid 乙 has no located reports)
    shown = page.locator("#table-reports tbody tr").count()
    assert rows[0] == ("渠道", "报修数（件）")
    assert len(rows) - 1 == (
        0 if "本期无数据" in page.locator("#table-reports").inner_text() else shown
    )
    assert desktop_page.console_errors == []


def test_city_channel_download_has_the_rows(desktop_page, seeded):
    _history, boss = seeded
    page = desktop_page.page
    _login(desktop_page, boss, f"/dashboard/?period=month&day={DAY}")
    _charts_drawn(page)
    with page.expect_download() as info:
        page.locator(".dl-xlsx[data-table='reports']").click()
    rows = list(
        load_workbook(io.BytesIO(info.value.path().read_bytes())).active.iter_rows(values_only=True)
    )
    # every channel is listed, 0 where none came in
    assert dict(rows[1:]) == {"95598热线": 2, "网站": 1, "手机应用": 0, "微信": 1}
    desktop_page.screenshot("dashboard")
