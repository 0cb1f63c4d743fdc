"""The agent desk's hands in a real browser: landing after login, search by name with a single
hit opening at once, the "/" shortcut, the handling time sent with a call, and the return
visit on a closed order."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from dispatch_center.core import roles
from grids.models import ServicePoint
from outages.models import CallLog
from outages.tests.conftest import build_network
from workorders.models import SatisfactionVisit, WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


@pytest.fixture
def desk():
    """The test network, one customer with a distinctive name, and a hotline agent."""
    from workorders.tests.factories import reference_data

    reference_data()
    network = build_network()
    caller = network.sps["T3"][1]
    ServicePoint.objects.filter(pk=caller.pk).update(customer_name="欧阳娜娜")
    caller.refresh_from_db()
    agent = User.objects.create_user(username="agent8", password=PASSWORD)
    agent.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    return network, caller, agent


def _login(bp, username: str, path: str = "/accounts/login/") -> None:
    bp.goto(path)
    page = bp.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_an_agent_lands_on_the_desk_and_the_home_page_links_it(desktop_page, desk):
    _network, _caller, agent = desk
    page = desktop_page.page
    # Given the home page, which links the agent desk
    desktop_page.goto("/")
    assert page.locator("a#home-agent").get_attribute("href") == "/agent/"
    # When the agent logs in without a target page
    _login(desktop_page, agent.username)
    # Then they land on the agent desk
    assert page.url == desktop_page.base_url + "/agent/"
    page.locator("#agent-q").wait_for()
    assert desktop_page.console_errors == []


def test_a_name_with_one_hit_opens_at_once_and_the_call_carries_its_handling_time(
    desktop_page, desk
):
    _network, caller, agent = desk
    _login(desktop_page, agent.username, "/accounts/login/?next=/agent/")
    page = desktop_page.page
    # When the agent types the caller's name and presses Enter
    page.fill("#agent-q", "欧阳娜娜")
    with page.expect_navigation():
        page.press("#agent-q", "Enter")
    # Then the one customer of that name is open at once, no click needed
    page.locator("#customer").wait_for()
    assert f"sp={caller.pk}" in page.url
    assert "欧阳娜娜" in page.locator("#customer").inner_text()
    # Given the caller was found 42 s ago (the page keeps that moment per premise)
    key = f"agent-found-{caller.pk}"
    assert page.evaluate(f"Number(sessionStorage.getItem('{key}')) > 0")
    page.evaluate(f"sessionStorage.setItem('{key}', String(Date.now() - 42000))")
    # When the agent records an enquiry
    page.check("input[name=kind][value=enquiry]")
    with page.expect_navigation():
        page.click("#call-submit")
    page.locator("#call-result").wait_for()
    # Then the call is saved with its handling time, and the clock is reset for the next one
    call = CallLog.objects.get()
    assert call.kind == "enquiry"
    assert 42 <= call.handling_seconds < 120
    assert 0 <= page.evaluate(f"Date.now() - Number(sessionStorage.getItem('{key}'))") < 30000
    assert desktop_page.console_errors == []


def test_the_slash_shortcut_never_types_a_slash_into_the_search_box(desktop_page, desk):
    _network, caller, agent = desk
    _login(desktop_page, agent.username, "/accounts/login/?next=/agent/")
    page = desktop_page.page
    desktop_page.goto(f"/agent/?q={caller.account_no}&sp={caller.pk}")
    box = page.locator("#agent-q")
    # (The complaint is one call type among three, offered once)
    page.locator("#kind-complaint").wait_for(state="attached")
    assert page.locator("input[name=kind]").count() == 3
    assert page.locator("input[name=kind][value=complaint]").count() == 1
    # The search box has focus on arrival (autofocus): "/" selects, it does not type
    assert page.evaluate("document.activeElement.id") == "agent-q"
    page.keyboard.press("/")
    assert box.input_value() == caller.account_no
    # From elsewhere on the page (a radio button), "/" jumps to the box and selects its text
    page.focus("input[name=kind][value=enquiry]")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "agent-q"
    assert box.input_value() == caller.account_no
    page.keyboard.type("欧阳")
    assert box.input_value() == "欧阳"
    # In the note, "/" is text
    page.focus("#id_note")
    page.keyboard.type("1/F")
    assert page.input_value("#id_note") == "1/F"
    assert box.input_value() == "欧阳"


def test_the_agent_records_a_return_visit_on_a_closed_order(desktop_page, desk):
    from workorders.tests.factories import force_status, make_crew, make_order

    _network, caller, agent = desk
    order = force_status(
        make_order(service_point=caller, title="表箱烧坏"),
        WorkOrder.Status.CLOSED,
        crew=make_crew(),
        closed_at=timezone.now() - timedelta(hours=2),
    )
    _login(desktop_page, agent.username, "/accounts/login/?next=/agent/")
    page = desktop_page.page
    desktop_page.goto(f"/agent/?sp={caller.pk}")
    item = page.locator(f"#return-visits [data-order='{order.pk}']")
    assert "表箱烧坏" in item.inner_text()
    # When the agent records that the customer is not satisfied, with a note
    item.locator("input[name=satisfied][value=no]").check()
    item.locator("input[name=note]").fill("等了太久")
    with page.expect_navigation():
        item.locator("button[type=submit]").click()
    # Then the visit is saved with who and when, and the page shows it instead of the form
    visit = SatisfactionVisit.objects.get()
    assert (visit.order_id, visit.agent_id, visit.satisfied, visit.note) == (
        order.pk,
        agent.pk,
        False,
        "等了太久",
    )
    done = page.locator(f"#return-visits [data-order='{order.pk}'] .visit-done")
    done.wait_for()
    assert "不满意" in done.inner_text()
    assert "等了太久" in done.inner_text()
    assert page.locator(f"#return-visits [data-order='{order.pk}'] form").count() == 0
    assert desktop_page.console_errors == []


def test_the_desk_fits_a_phone_in_english(phone_page, desk):
    from outages.models import Outage
    from outages.services import outage_create
    from outages.tests.factories import outage_cause, outage_type

    network, caller, agent = desk
    for code in ("S1", "FU"):  # two outages in the start page's table
        outage_create(
            type=outage_type("fault_mv_feeder"),
            device=network[code],
            source=Outage.Source.DISPATCHER,
            actor=None,
            status=Outage.Status.CONFIRMED,
            cause=outage_cause("cable_fault"),
            etr=timezone.now() + timedelta(hours=2),
        )
    page = phone_page.page
    _login(phone_page, agent.username, "/accounts/login/?next=/agent/")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    # The start page (its table of current outages scrolls within its card)
    assert page.locator("#active-outages tbody tr").count() == 2
    phone_page.wait_for_paint()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The caller's premise
    phone_page.goto(f"/agent/?q={caller.account_no}&sp={caller.pk}")
    page.locator("#customer").wait_for()
    phone_page.wait_for_paint()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert (
        page.locator(".topbar .topbar-right").bounding_box()["x"]
        + page.locator(".topbar .topbar-right").bounding_box()["width"]
        <= 390
    )
