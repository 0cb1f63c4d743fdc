"""The agent desk's hands: search by name (a single hit opens at once), the handling time of
a call, the complaint call kind and the staff API that records a call."""

from urllib.parse import parse_qs, urlparse

import pytest

from grids.models import ServicePoint
from outages.models import CallLog, TroubleReport
from outages.services.calls import call_record

pytestmark = pytest.mark.django_db

URL = "/agent/"
CALLS = "/agent/calls"
API = "/api/v1/calls"


def _name(sp: ServicePoint, name: str) -> ServicePoint:
    ServicePoint.objects.filter(pk=sp.pk).update(customer_name=name)
    sp.refresh_from_db()
    return sp


# --- search by name --------------------------------------------------------------------------


def test_a_unique_name_opens_the_premise_at_once(client, hotline_agent, network):
    # Given one customer called 欧阳娜娜
    sp = _name(network.sps["T3"][1], "欧阳娜娜")
    client.force_login(hotline_agent)
    # When the agent searches the name
    response = client.get(URL, {"q": "欧阳娜娜"})
    # Then the page goes straight to that premise, the search kept
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query == {"q": ["欧阳娜娜"], "sp": [str(sp.pk)]}
    page = client.get(response["Location"])
    assert page.context["customer"].service_point.pk == sp.pk


def test_a_shared_name_lists_every_customer_exact_names_first(client, hotline_agent, network):
    first = _name(network.sps["T1"][0], "李明")
    second = _name(network.sps["T4"][1], "李明")
    longer = _name(network.sps["T2"][2], "李明华")
    client.force_login(hotline_agent)
    response = client.get(URL, {"q": "李明"})
    assert response.status_code == 200
    ids = [h.service_point.pk for h in response.context["hits"]]
    assert ids[:2] == sorted(
        [first.pk, second.pk], key=lambda pk: ServicePoint.objects.get(pk=pk).account_no
    )
    assert ids[2] == longer.pk
    assert [h.score for h in response.context["hits"]][:3] == [1.0, 1.0, 0.95]


def test_a_single_hit_by_phone_also_opens_at_once(client, hotline_agent, network):
    sp = network.sps["T2"][0]
    client.force_login(hotline_agent)
    response = client.get(URL, {"q": sp.phone})
    assert response.status_code == 302
    assert f"sp={sp.pk}" in response["Location"]


def test_an_opened_premise_is_not_redirected_again(client, hotline_agent, network):
    sp = _name(network.sps["T3"][0], "欧阳娜娜")
    client.force_login(hotline_agent)
    response = client.get(URL, {"q": "欧阳娜娜", "sp": sp.pk})
    assert response.status_code == 200


# --- handling time ---------------------------------------------------------------------------


def test_the_call_form_saves_the_handling_time(client, hotline_agent, network):
    sp = network.sps["T4"][1]
    client.force_login(hotline_agent)
    response = client.post(
        CALLS,
        {
            "service_point": sp.pk,
            "kind": "enquiry",
            "caller_phone": sp.phone,
            "handling_seconds": "47",
        },
    )
    assert response.status_code == 302
    assert CallLog.objects.get().handling_seconds == 47


@pytest.mark.parametrize(("value", "saved"), [("", None), ("0", 0)])
def test_the_handling_time_is_optional(client, hotline_agent, network, value, saved):
    sp = network.sps["T4"][1]
    client.force_login(hotline_agent)
    data = {"service_point": sp.pk, "kind": "enquiry", "caller_phone": sp.phone}
    client.post(CALLS, data | {"handling_seconds": value})
    assert CallLog.objects.get().handling_seconds == saved


def test_a_negative_handling_time_is_refused(client, hotline_agent, network):
    sp = network.sps["T4"][1]
    client.force_login(hotline_agent)
    response = client.post(
        CALLS,
        {
            "service_point": sp.pk,
            "kind": "enquiry",
            "caller_phone": sp.phone,
            "handling_seconds": "-3",
        },
    )
    assert response.status_code == 400
    assert CallLog.objects.count() == 0


def test_the_service_refuses_a_negative_handling_time(hotline_agent, network):
    from dispatch_center.core.exceptions import DomainError

    with pytest.raises(DomainError) as caught:
        call_record(
            agent=hotline_agent,
            service_point=network.sps["T1"][0],
            kind="enquiry",
            caller_phone="13800138000",
            handling_seconds=-1,
        )
    assert "handling_seconds" in caught.value.fields
    assert CallLog.objects.count() == 0


# --- the staff API ---------------------------------------------------------------------------


def test_the_api_records_a_complaint_call_with_its_handling_time(
    api_client, hotline_agent, network
):
    sp = network.sps["T2"][1]
    api_client.force_authenticate(hotline_agent)
    response = api_client.post(
        API,
        {
            "service_point": sp.pk,
            "kind": "complaint",
            "phone": sp.phone,
            "note": "TS-1",
            "handling_seconds": 95,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    call = CallLog.objects.get()
    assert (call.kind, call.handling_seconds, call.note, call.agent_id) == (
        "complaint",
        95,
        "TS-1",
        hotline_agent.pk,
    )
    assert call.report is None
    assert TroubleReport.objects.count() == 0
    assert body["id"] == call.pk
    assert body["kind"] == "complaint"
    assert body["handling_seconds"] == 95
    assert body["told"] == call.told


def test_the_api_files_a_fault_report_and_leaves_handling_time_optional(
    api_client, dispatcher, network
):
    sp = network.sps["T1"][2]
    api_client.force_authenticate(dispatcher)
    response = api_client.post(
        API,
        {"service_point": sp.pk, "kind": "fault", "symptom": "no_power", "phone": sp.phone},
        format="json",
    )
    assert response.status_code == 201, response.json()
    report = TroubleReport.objects.get()
    assert response.json()["report"] == report.reference
    assert CallLog.objects.get().handling_seconds is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"handling_seconds": -1}, "handling_seconds"),
        ({"handling_seconds": "soon"}, "handling_seconds"),
        ({"kind": "fault"}, "symptom"),
        ({"kind": "gossip"}, "kind"),
        ({"phone": "12"}, "phone"),
        ({"service_point": 999999}, "service_point"),
    ],
)
def test_the_api_names_the_bad_field(api_client, hotline_agent, network, change, field):
    sp = network.sps["T1"][0]
    api_client.force_authenticate(hotline_agent)
    data = {"service_point": sp.pk, "kind": "enquiry", "phone": sp.phone} | change
    response = api_client.post(API, data, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert CallLog.objects.count() == 0


@pytest.mark.parametrize("user", ["outsider", "crew_user"])
def test_the_api_refuses_other_roles(api_client, request, user, network):
    api_client.force_authenticate(request.getfixturevalue(user))
    sp = network.sps["T1"][0]
    response = api_client.post(
        API, {"service_point": sp.pk, "kind": "enquiry", "phone": sp.phone}, format="json"
    )
    assert response.status_code == 403
    assert CallLog.objects.count() == 0


def test_the_api_needs_a_login(api_client, network):
    response = api_client.post(API, {}, format="json")
    assert response.status_code in (401, 403)
