"""A complaint in a real browser: the hotline agent raises it on the caller found (the agent
page's third call type, with the caller's escalation risk), the investigator traces it,
records accountability, replies and closes it on the complaint desk."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User

from complaints.models import Complaint
from dispatch_center.core import roles
from outages.tests.conftest import build_network

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


@pytest.fixture
def world():
    from complaints.tests.helpers import past_outage

    network = build_network()
    past_outage(network, "FU", started_ago=timedelta(hours=8), lasted=timedelta(hours=6))
    agent = User.objects.create_user(username="agent9", password=PASSWORD)
    agent.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    boss = User.objects.create_user(username="investigator", password=PASSWORD)
    boss.groups.add(Group.objects.get_or_create(name=roles.SUPERVISOR)[0])
    return network, agent, boss


def _login(wrapper, username: str, next_url: str) -> None:
    wrapper.goto(f"/accounts/login/?next={next_url}")
    page = wrapper.page
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_agent_raises_a_complaint_and_the_investigator_closes_it(browser, live_server, world):
    network, agent, boss = world
    caller = network.sps["T4"][0]  # an important customer: medium risk before any complaint

    # Given the agent on the caller's premise
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    class W:
        def goto(self, path):
            page.goto(live_server.url + path)

    W.page = page
    _login(W(), agent.username, f"/agent/?sp={caller.pk}")
    page.wait_for_selector("#complaint-risk-level")
    assert page.locator("#complaint-risk-level").get_attribute("data-risk") == "medium"

    # When the agent picks the third call type and registers the complaint
    page.check("#kind-complaint")
    assert page.locator("#complaint-form").is_visible()
    assert not page.locator("#call-submit").is_visible()
    page.wait_for_function("document.querySelectorAll('#complaint-category option').length > 5")
    page.select_option("#complaint-category", "outage_restore_slow")
    page.fill("#complaint-text", "停电六个小时才恢复，没人通知进展。")
    page.click("#complaint-submit")
    page.wait_for_selector("#complaint-reference")

    # Then the caller hears a reference, and the complaint exists with its links and flags
    reference = page.inner_text("#complaint-reference").strip()
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.created_by == agent
    assert complaint.links.filter(kind="outage").exists()
    assert complaint.flags.filter(code="important").exists()
    page.wait_for_function(
        "document.getElementById('complaint-risk-level').dataset.risk === 'high'"
    )
    # And the call is in the call log as a complaint, with its handling time
    page.wait_for_selector("#complaint-result[data-call-logged='1']", state="attached")
    from outages.models import CallLog

    call = CallLog.objects.get(kind="complaint")
    assert (call.service_point_id, call.note, call.agent_id) == (caller.pk, reference, agent.pk)
    assert call.handling_seconds is not None
    context.close()

    # When the investigator works it on the desk
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    W.page = page
    _login(W(), boss.username, "/complaints/")
    page.click(f"text={reference}")
    page.wait_for_selector("#complaint-timeline")
    # The suggestion comes from the linked timelines (the repair order raised for the outage
    # never reached the customer within its deadline: travel)
    from complaints.models import Trace

    suggested = Trace.objects.get(complaint=complaint)
    assert suggested.suggested_step == "travel"
    assert page.inner_text("#trace-suggested").strip() == suggested.get_suggested_step_display()

    def step(to: str, reply: str = "") -> None:
        page.select_option("#t-to", to)
        if reply:
            page.fill("#t-reply", reply)
        with page.expect_navigation():
            page.click("#transition-submit")

    step("contacted")
    step("investigating")
    step("replied", "已核实停电原因并致歉，已优化信息发布。")
    assert "办结前须完成" in page.inner_text("#close-blockers")
    page.select_option("#trace-step", "information")
    page.fill("#trace-finding", "抢修期间未更新预计复电时间")
    with page.expect_navigation():
        page.click("#trace-form button[type=submit]")
    page.select_option("#acc-nature", "shared")
    page.fill("#acc-unit", "福田供电所")
    page.fill("#acc-manager", "李所长")
    with page.expect_navigation():
        page.click("#acc-form button[type=submit]")
    step("closed")

    # Then it is closed, and the timeline shows each step
    assert page.inner_text("#complaint-status").strip() == "已办结"
    timeline = page.inner_text("#complaint-timeline")
    for label in ("已联系", "调查中", "已答复", "溯源", "问责", "已办结"):
        assert label in timeline
    complaint.refresh_from_db()
    assert complaint.status == "closed"
    assert complaint.accountability.held_against == "李所长"
    assert errors == []
    context.close()
