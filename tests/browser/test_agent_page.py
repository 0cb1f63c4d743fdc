"""The hotline agent's page in a real browser: log in, find the caller by phone, see the known
outage and its repair order, record a call that merges into the outage."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from dispatch_center.core import roles
from outages.models import CallLog, Outage, OutageCause, TroubleReport
from outages.services import outage_create
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


def named_cause(code: str, name: str, name_en: str) -> OutageCause:
    """The cause with its real names (a transactional test flushed the taxonomy)."""
    cause = outage_cause(code)
    OutageCause.objects.filter(pk=cause.pk).update(name=name, name_en=name_en)
    cause.refresh_from_db()
    return cause


@pytest.fixture
def agent_world():
    """A known outage (cause, ETR) below S1, a crew on duty nearby, and a hotline agent."""
    from workorders.tests.factories import make_crew, reference_data

    reference_data()
    network = build_network()
    grid = network.sps["T1"][0].grid
    crew = make_crew(grid=grid, dlat=0.02, skills=("lv", "mv", "hv", "cable"))
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S1"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        cause=named_cause("cable_fault", "电缆故障", "Cable fault"),
        etr=timezone.now() + timedelta(hours=2),
        description="10 kV 电缆故障",
    )
    agent = User.objects.create_user(
        username="agent7", password=PASSWORD, first_name="王", last_name="坐席"
    )
    agent.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    return network, outage, agent, crew


def _login(page_wrapper, username: str) -> None:
    page_wrapper.goto("/accounts/login/?next=/agent/")
    page = page_wrapper.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_agent_finds_the_caller_and_records_a_call_that_merges(desktop_page, agent_world):
    network, outage, agent, _crew = agent_world
    caller = network.sps["T2"][1]
    _login(desktop_page, agent.username)
    page = desktop_page.page
    assert page.url.endswith("/agent/")
    desktop_page.screenshot("empty", full_page=False)

    # When the agent searches the caller's phone number and opens the premise
    page.fill("#agent-q", caller.phone)
    with page.expect_navigation():
        page.press("#agent-q", "Enter")
    hits = page.locator("#hit-list .hit-link")
    assert hits.count() == 1
    assert caller.address in hits.first.inner_text()
    assert "停电中" in hits.first.inner_text()
    with page.expect_navigation():
        hits.first.click()

    # Then the customer, the network, the outage with its timeline and what to say are shown
    customer = page.locator("#customer").inner_text()
    for text in (caller.customer_name, caller.account_no, caller.address):
        assert text in customer
    assert network["T2"].code in customer
    script = page.locator("#script-text").inner_text()
    assert script.startswith("您好，您所在区域因电缆故障停电")
    assert f"{timezone.localtime(outage.etr):%H:%M}恢复供电" in script
    assert page.locator("#outage-timeline li").count() >= 1
    assert page.input_value("#id_caller_phone") == caller.phone
    desktop_page.screenshot("customer", full_page=False)

    # When the agent records a fault call in one step
    page.check("input[name=kind][value=fault]")
    page.fill("#id_note", "来电称整栋楼停电")
    with page.expect_navigation():
        page.click("#call-submit")

    # Then the report is merged into the known outage (no new outage), and the page shows
    # the sentence to tell the caller
    report = TroubleReport.objects.get()
    assert report.status == TroubleReport.Status.MERGED
    assert report.outage_id == outage.pk
    assert report.service_point_id == caller.pk
    assert Outage.objects.count() == 1
    call = CallLog.objects.get()
    assert call.report_id == report.pk
    assert call.agent_id == agent.pk
    told = page.locator("#call-result .script").inner_text()
    assert told == call.told
    assert told.startswith("您好，您所在区域因电缆故障停电")
    assert f"并入停电事件 {outage.pk}" in page.locator(".messages").inner_text()
    assert report.reference in page.locator("#report-history").inner_text()
    desktop_page.screenshot("call-recorded", full_page=False)
    desktop_page.screenshot("call-recorded-full")
    assert desktop_page.console_errors == []


def test_agent_page_in_english(desktop_page, agent_world):
    network, _outage, agent, _crew = agent_world
    caller = network.sps["T1"][0]
    _login(desktop_page, agent.username)
    page = desktop_page.page
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    desktop_page.goto(f"/agent/?q={caller.account_no}&sp={caller.pk}")
    assert page.locator("#search-title").inner_text() == "Find the caller"
    assert (
        page.locator("#script-text")
        .inner_text()
        .startswith("Hello, the power in your area is off (cause: cable fault)")
    )
    desktop_page.screenshot("english", full_page=False)
    assert desktop_page.console_errors == []


def test_a_crew_member_cannot_open_the_agent_page(desktop_page):
    user = User.objects.create_user(username="crew9", password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=roles.CREW_MEMBER)[0])
    _login(desktop_page, "crew9")  # logs in, then lands on /agent/
    page = desktop_page.page
    assert page.url.endswith("/agent/")
    assert page.locator("#agent-q").count() == 0
    response = page.request.get(desktop_page.base_url + "/agent/")
    assert response.status == 403
