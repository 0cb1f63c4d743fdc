"""The hotline agent's page: roles, finding the caller, the premise's picture, recording calls."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from outages.models import CallLog, Outage, TroubleReport
from outages.providers import work_progress
from outages.selectors.agent import agent_customer_context, caller_script
from outages.services import outage_create
from outages.tests.factories import outage_cause, outage_type

pytestmark = pytest.mark.django_db

URL = "/agent/"
CALLS = "/agent/calls"


def _declare(network, code="S1", **kwargs) -> Outage:
    return outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network[code],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        **kwargs,
    )


@pytest.fixture
def fake_work():
    """A work-orders provider answering for every outage: a crew on its way."""
    eta = timezone.now() + timedelta(minutes=25)

    def progress(outage_id):
        return {
            "order_id": 4711,
            "status": "en_route",
            "status_label": "在途",
            "crew": "福田抢修一班",
            "crew_status": "en_route",
            "eta": eta,
            "arrived_at": None,
            "arrive_due_at": eta + timedelta(minutes=10),
            "sla_state": "ok",
            "sla_state_label": "正常",
            "steps": [{"at": timezone.now(), "label": "已派单", "note": ""}],
        }

    work_progress.register(progress=progress)
    yield eta
    work_progress.unregister(progress=progress)


# --- who may use it --------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("user", ["outsider", "crew_user", "scada_gateway"])
def test_other_roles_are_refused(client, request, user):
    client.force_login(request.getfixturevalue(user))
    assert client.get(URL).status_code == 403
    assert client.post(CALLS, {}).status_code == 403


@pytest.mark.parametrize("user", ["hotline_agent", "dispatcher", "supervisor"])
def test_agents_dispatchers_and_supervisors_may_use_it(client, request, user):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL)
    assert response.status_code == 200
    assert "查找来电用户" in response.content.decode()


# --- finding the caller --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["phone", "account_no", "address"])
def test_find_the_caller_by_phone_account_or_address(client, hotline_agent, network, how):
    sp = network.sps["T3"][1]
    client.force_login(hotline_agent)
    response = client.get(URL, {"q": getattr(sp, how)}, follow=True)
    assert response.status_code == 200
    hits = response.context["hits"]
    assert sp.pk in [h.service_point.pk for h in hits]
    assert f"sp={sp.pk}" in response.content.decode()


def test_the_premise_shows_customer_network_outage_timeline_work_and_the_sentence(
    client, hotline_agent, network, fake_work, django_assert_max_num_queries
):
    # Given an outage with a cause and an ETR over the caller's premise, and an earlier report
    etr = timezone.localtime() + timedelta(hours=2)
    outage = _declare(network, cause=outage_cause("cable_fault"), etr=etr)
    sp = network.sps["T1"][0]
    client.force_login(hotline_agent)

    # When the agent opens the premise
    with django_assert_max_num_queries(40):
        response = client.get(URL, {"q": sp.phone, "sp": sp.pk})

    # Then the page shows who, where, what is out, the work and what to say
    page = response.content.decode()
    assert response.status_code == 200
    for text in (sp.customer_name, sp.account_no, sp.address, network["T1"].code):
        assert text in page
    assert sp.transformer.feeder.name in page
    assert f"#{outage.pk}" in page
    assert "福田抢修一班" in page  # the crew from the work-orders provider
    assert f"{timezone.localtime(fake_work):%H:%M}" in page  # its ETA
    script = response.context["customer"].script
    assert script.startswith(f"您好，您所在区域因{outage.cause.name}停电")
    assert "抢修人员已出发赶往现场" in script
    assert f"预计今天 {etr:%H:%M}恢复供电" in script or f"{etr.day}日" in script
    assert script in page
    # and the call form is prefilled with the number the agent searched for
    assert response.context["form"].initial["caller_phone"] == sp.phone


def test_a_premise_without_outage_says_so(client, hotline_agent, network):
    sp = network.sps["T4"][0]
    client.force_login(hotline_agent)
    response = client.get(URL, {"sp": sp.pk})
    assert response.context["customer"].outage is None
    assert "不在任何已知停电范围内" in response.content.decode()


# --- recording calls ---------------------------------------------------------------------------


def test_a_fault_call_inside_a_known_outage_merges_and_shows_the_sentence(
    client, hotline_agent, network
):
    # Given a known outage over the caller's premise
    outage = _declare(network, cause=outage_cause("tree_contact"))
    sp = network.sps["T2"][0]
    outages_before = Outage.objects.count()
    client.force_login(hotline_agent)

    # When the agent records a fault call in one step
    response = client.post(
        CALLS,
        {
            "service_point": sp.pk,
            "kind": "fault",
            "symptom": "no_power",
            "caller_phone": "13987654321",
            "note": "整栋楼没电",
            "q": sp.phone,
        },
    )

    # Then the report is merged into the outage, no new outage exists, the call is logged
    assert response.status_code == 302
    report = TroubleReport.objects.get()
    assert report.status == TroubleReport.Status.MERGED
    assert report.outage_id == outage.pk
    assert report.channel == TroubleReport.Channel.HOTLINE
    assert report.created_by == hotline_agent
    assert Outage.objects.count() == outages_before
    call = CallLog.objects.get()
    assert (call.kind, call.report_id, call.outage_id, call.agent) == (
        "fault",
        report.pk,
        outage.pk,
        hotline_agent,
    )
    assert f"因{outage.cause.name}停电" in call.told
    # and the page it leads to shows what to tell the caller
    page = client.get(response["Location"])
    text = page.content.decode()
    assert call.told in text
    assert f"并入停电事件 {outage.pk}" in text
    assert report.reference in text  # in the history


def test_an_enquiry_is_logged_without_a_report(client, hotline_agent, network):
    sp = network.sps["T4"][1]
    client.force_login(hotline_agent)
    response = client.post(
        CALLS,
        {"service_point": sp.pk, "kind": "enquiry", "caller_phone": "0755-83451234", "q": ""},
    )
    assert response.status_code == 302
    assert TroubleReport.objects.count() == 0
    call = CallLog.objects.get()
    assert call.kind == "enquiry"
    assert call.report is None
    assert call.outage is None
    assert "没有已知停电" in call.told


def test_a_fault_call_outside_any_outage_waits_for_the_rollup(client, hotline_agent, network):
    sp = network.sps["T4"][1]
    client.force_login(hotline_agent)
    client.post(
        CALLS,
        {"service_point": sp.pk, "kind": "fault", "symptom": "no_power", "caller_phone": sp.phone},
    )
    report = TroubleReport.objects.get()
    assert report.status == TroubleReport.Status.PENDING
    assert CallLog.objects.get().told.endswith(f"报修编号：{report.reference}。")


def test_a_bad_call_form_is_shown_again_with_errors(client, hotline_agent, network):
    sp = network.sps["T1"][0]
    client.force_login(hotline_agent)
    response = client.post(
        CALLS, {"service_point": sp.pk, "kind": "fault", "symptom": "", "caller_phone": "12"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "caller_phone" in errors
    assert "symptom" in errors
    assert TroubleReport.objects.count() == 0
    assert CallLog.objects.count() == 0


# --- the sentence --------------------------------------------------------------------------------


def test_caller_script_without_cause_crew_or_etr(network):
    outage = _declare(network)
    assert caller_script(outage=outage) == (
        "您好，您所在区域发生停电，原因正在查明，我们正在安排抢修人员，"
        "恢复时间正在评估，请您耐心等待。"
    )


def test_caller_script_in_english(network):
    outage = _declare(network, cause=outage_cause("cable_fault"))
    with translation.override("en"):
        text = caller_script(
            outage=outage,
            work={"crew_status": "on_site"},  # type: ignore[arg-type]
        )
    # The cause reads as part of the sentence: "Cable fault" → "cable fault"
    name = outage.cause.name_en
    cause_in_sentence = name[0].lower() + name[1:] if not name[1:2].isupper() else name
    assert text == (
        f"Hello, the power in your area is off (cause: {cause_in_sentence}), "
        "the repair crew has arrived on site and is repairing, "
        "the restoration time is being assessed, thank you for your patience."
    )


def test_context_uses_the_real_work_orders_provider(network, django_capture_on_commit_callbacks):
    # The work-orders app raises a repair order when an outage is confirmed (eager in tests)
    with django_capture_on_commit_callbacks(execute=True):
        outage = _declare(network)
    context = agent_customer_context(service_point_id=network.sps["T1"][0].pk)
    assert context.outage.pk == outage.pk
    assert context.work is not None
    assert context.work["order_id"] > 0
    assert context.work["status"]


def test_start_page_lists_what_is_out_and_my_latest_calls(client, hotline_agent, network):
    outage = _declare(network)
    client.force_login(hotline_agent)
    sp = network.sps["T4"][0]
    client.post(CALLS, {"service_point": sp.pk, "kind": "enquiry", "caller_phone": sp.phone})
    response = client.get(URL)
    overview = response.context["overview"]
    assert [o.pk for o in overview.outages] == [outage.pk]
    assert (overview.outages_total, overview.customers_out) == (1, 6)
    assert [c.service_point_id for c in overview.calls] == [sp.pk]
    page = response.content.decode()
    assert f"#{outage.pk}" in page
    assert sp.address in page


def test_searching_by_account_prefills_the_customers_phone_not_the_account(
    client, hotline_agent, network
):
    sp = network.sps["T1"][2]
    client.force_login(hotline_agent)
    response = client.get(URL, {"q": sp.account_no, "sp": sp.pk})
    assert response.context["form"].initial["caller_phone"] == sp.phone


def test_english_page_names_types_and_causes_in_english(client, hotline_agent, network):
    outage = _declare(network, cause=outage_cause("cable_fault"))
    sp = network.sps["T1"][0]
    client.force_login(hotline_agent)
    client.cookies["django_language"] = "en"
    page = client.get(URL, {"sp": sp.pk}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{outage.type.name_en} <span" in page
    assert f"<dd>{outage.cause.name_en}</dd>" in page
