"""The supervisors' dashboard, its data dictionary and the monthly report in English show no
Chinese outside names (districts, grids, stations, crews, agents, addresses: data, not
interface), with every chart drawn, the reliability and frequent-outage tables filled, and
each column's definition in English on hover."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, User

from dashboard import services
from dashboard.tests.conftest import DAY, PREVIOUS_DAY, at, build_history
from dispatch_center.core import roles
from grids.models import District, RepairStation, ServicePoint
from reliability import services as reliability_services
from reliability.models import FrequentOutageAlert
from tests.browser.test_english_pages import HAN, OWN_NAMES, _data_strings

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


@pytest.fixture
def seeded():
    history = build_history()
    District.objects.filter(pk=history.district.pk).update(name_en="Futian")
    services.dashboard_compute_days(first=PREVIOUS_DAY, last=DAY + timedelta(days=1))
    services.points_award_from_calls(first=DAY, last=DAY)
    reliability_services.reliability_days_compute(days=[PREVIOUS_DAY, DAY])
    sp = ServicePoint.objects.order_by("pk").first()
    FrequentOutageAlert.objects.create(
        service_point=sp,
        level="frequent",
        period_start=DAY.replace(month=1, day=1),
        as_of=DAY,
        first_raised_at=at(DAY, 9),
        last_changed_at=at(DAY, 9),
    )
    boss = User.objects.create_user("boss", password=PASSWORD)
    boss.groups.add(Group.objects.get_or_create(name=roles.SUPERVISOR)[0])
    return history, boss


def _names() -> list[str]:
    """Data shown on the dashboard besides the pages' own: districts, stations, agents."""
    values = set(_data_strings())
    # a district with an English name must show it: only those without one are data here
    values.update(District.objects.filter(name_en="").values_list("name", flat=True))
    values.update(RepairStation.objects.values_list("name", flat=True))
    for user in User.objects.all():
        values.update(v for v in (user.get_full_name(), user.first_name, user.username) if v)
    return sorted(values, key=len, reverse=True)


def _chinese_lines(page) -> list[str]:
    text = page.locator("body").inner_text()
    extra = page.evaluate(
        "() => [document.title, ...Array.from(document.querySelectorAll('[placeholder],"
        " [aria-label], [title]'), n => [n.getAttribute('placeholder'),"
        " n.getAttribute('aria-label'), n.getAttribute('title')].join(' '))].join('\\n')"
    )
    names = [*_names(), *OWN_NAMES]
    found = []
    for line in (text + "\n" + extra).splitlines():
        stripped = line
        for name in names:
            stripped = stripped.replace(name, " ")
        if HAN.search(stripped):
            found.append(line)
    return found


def _login_english(bp, user, path):
    page = bp.page
    bp.goto(f"/accounts/login/?next={quote(path)}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"


def test_dashboard_in_english_shows_no_chinese_outside_names(desktop_page, seeded):
    _history, boss = seeded
    page = desktop_page.page
    path = f"/dashboard/?period=month&day={DAY}"
    _login_english(desktop_page, boss, path)
    desktop_page.goto(path)
    page.wait_for_function("document.documentElement.dataset.chartsReady === '1'")
    # then: every chart drawn, the reliability and frequent-outage tables filled
    assert page.locator(".chart[data-drawn='1'] canvas").count() == page.locator(".chart").count()
    assert page.locator("#table-reliability tbody tr").first.inner_text().startswith("City")
    saifi = page.locator("#table-reliability thead th").nth(1)
    assert "SAIFI" in saifi.inner_text()
    assert saifi.get_attribute("title").startswith(
        "System average interruption frequency SAIFI: Sustained customer interruptions"
    )
    assert page.locator("#table-frequent tbody tr").nth(1).inner_text().split("\t")[1:] == [
        "1",
        "1",
    ]
    assert page.locator("#table-outage_types tbody tr").count() == 17
    # and no Chinese outside names on the dashboard, the dictionary and the report
    found = {path: _chinese_lines(page)}
    desktop_page.goto("/dashboard/dictionary/")
    page.locator("#def-SAIFI").wait_for()
    found["/dashboard/dictionary/"] = _chinese_lines(page)
    desktop_page.goto(f"/dashboard/report/?day={DAY}")
    page.locator("#table-reliability").wait_for()
    found["/dashboard/report/"] = _chinese_lines(page)
    assert found == {k: [] for k in found}
    assert desktop_page.console_errors == []
