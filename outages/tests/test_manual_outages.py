"""The dispatcher's hands on the outage pool: a fault outage declared by hand (from a device
or a set of calls), restored device by device, and a planned outage previewed, published and
announced to its customers through the notification outbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from grids.models import Device
from outages import services
from outages.models import Interruption, Notification, Outage, Subscription, TroubleReport
from outages.notifications import notifications_queue_for_outage
from outages.tests.factories import TroubleReportFactory, outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status
R = TroubleReport.Status


def _call(network, transformer, index):
    return TroubleReportFactory(
        service_point=network.sps[transformer][index],
        status=R.PENDING,
        received_at=timezone.now() - timedelta(minutes=5),
    )


# --- a fault outage by hand ----------------------------------------------------------------


def test_declaring_at_a_device_confirms_a_fault_outage_with_its_customers(
    api_client, dispatcher, network
):
    api_client.force_authenticate(dispatcher)
    body = {"type": "fault_mv_feeder", "device": "S1", "description": "巡线发现倒杆"}
    response = api_client.post("/api/v1/outages/manual", body, format="json")
    assert response.status_code == 201, response.json()
    outage = Outage.objects.get(pk=response.json()["id"])
    assert outage.status == S.CONFIRMED
    assert outage.source == Outage.Source.DISPATCHER
    assert outage.device.code == "S1"
    assert outage.customers_affected == 6
    assert outage.created_by == dispatcher


def test_declaring_from_calls_picks_the_lowest_common_device_and_merges_them(
    api_client, dispatcher, network
):
    # Given calls from premises under T1 and T2 (both below S1) and one that stays alone
    calls = [_call(network, "T1", 0), _call(network, "T2", 1)]
    other = _call(network, "T4", 0)
    api_client.force_authenticate(dispatcher)

    # When the dispatcher declares an outage from the two calls
    body = {"type": "fault_mv_feeder", "reports": [c.pk for c in calls]}
    response = api_client.post("/api/v1/outages/manual", body, format="json")

    # Then it sits at S1, starts at the first call, and the calls are merged into it
    assert response.status_code == 201, response.json()
    outage = Outage.objects.get(pk=response.json()["id"])
    assert outage.device.code == "S1"
    assert outage.started_at == min(c.received_at for c in calls)
    for call in calls:
        call.refresh_from_db()
        assert (call.status, call.outage_id) == (R.MERGED, outage.pk)
    other.refresh_from_db()
    assert other.outage_id is None


def test_calls_on_two_branches_meet_at_the_breaker(network):
    calls = [_call(network, "T1", 0), _call(network, "T3", 0)]
    outage = services.outage_declare_by_hand(
        type=outage_type("fault_mv_feeder"), reports=calls, actor=None
    )
    assert outage.device.code == "B"
    assert outage.customers_affected == 11


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "fault_mv_feeder"}, "device"),
        ({"type": "planned_maintenance", "device": "S1"}, "type"),
        ({"type": "fault_mv_feeder", "device": "NOPE"}, "device"),
        ({"type": "no_such_type", "device": "S1"}, "type"),
        ({"type": "fault_mv_feeder", "reports": [987654]}, "reports"),
    ],
)
def test_declaring_refuses_bad_input(api_client, dispatcher, network, body, field):
    api_client.force_authenticate(dispatcher)
    response = api_client.post("/api/v1/outages/manual", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Outage.objects.exists()


def test_a_call_already_merged_cannot_be_declared_again(api_client, dispatcher, network):
    call = _call(network, "T1", 0)
    TroubleReport.objects.filter(pk=call.pk).update(status=R.CLOSED)
    api_client.force_authenticate(dispatcher)
    body = {"type": "fault_mv_feeder", "reports": [call.pk]}
    response = api_client.post("/api/v1/outages/manual", body, format="json")
    assert response.status_code == 400
    assert "reports" in response.json()["error"]["fields"]


@pytest.mark.parametrize("who", ["outsider", "hotline_agent", None])
def test_only_dispatchers_declare_plan_and_look_up_devices(api_client, request, network, who):
    if who:
        api_client.force_authenticate(request.getfixturevalue(who))
    declared = api_client.post(
        "/api/v1/outages/manual", {"type": "fault_mv_feeder", "device": "S1"}, format="json"
    )
    preview = api_client.post(
        "/api/v1/outages/planned/preview",
        {"type": "planned_maintenance", "devices": ["S1"]},
        format="json",
    )
    near = api_client.get("/api/v1/outages/devices-near?lat=22.54&lng=114.05")
    assert declared.status_code in (401, 403)
    assert preview.status_code in (401, 403)
    assert near.status_code in (401, 403)
    assert not Outage.objects.exists()


def test_a_declared_outage_is_restored_device_by_device(api_client, dispatcher, network):
    # Given an outage declared at the breaker (11 customers)
    api_client.force_authenticate(dispatcher)
    created = api_client.post(
        "/api/v1/outages/manual", {"type": "fault_mv_feeder", "device": "B"}, format="json"
    ).json()
    url = f"/api/v1/outages/{created['id']}/restorations"

    # When S2 is switched back first
    first = api_client.post(url, {"device": "S2"}, format="json")

    # Then its 3 customers are back and the outage is partly restored
    assert first.status_code == 200, first.json()
    outage = Outage.objects.get(pk=created["id"])
    assert outage.status == S.PARTIALLY_RESTORED
    back = Interruption.objects.filter(outage=outage, ended_at__isnull=False)
    assert set(back.values_list("service_point_id", flat=True)) == network.below("T3")
    # and then the breaker restores the rest
    assert api_client.post(url, {"device": "B"}, format="json").status_code == 200
    outage.refresh_from_db()
    assert outage.status == S.RESTORED
    assert not Interruption.objects.filter(outage=outage, ended_at__isnull=True).exists()


def test_devices_near_a_point_nearest_first(api_client, dispatcher, network):
    Device.objects.filter(code="T1").update(lat=22.5400, lng=114.0500)
    Device.objects.filter(code="T3").update(lat=22.5380, lng=114.0600)
    api_client.force_authenticate(dispatcher)
    response = api_client.get("/api/v1/outages/devices-near?lat=22.5401&lng=114.0501&radius=2000")
    assert response.status_code == 200
    codes = [d["code"] for d in response.json()["results"]]
    assert codes == ["T1", "T3"]
    assert api_client.get("/api/v1/outages/devices-near?lat=95&lng=1").status_code == 400


# --- a planned outage: preview, publish, notice ------------------------------------------


def test_the_preview_counts_the_customers_before_anything_is_written(
    api_client, dispatcher, network
):
    api_client.force_authenticate(dispatcher)
    start = (timezone.now() + timedelta(days=2)).isoformat()
    body = {"type": "planned_maintenance", "devices": ["S1", "FU"], "planned_start_at": start}
    response = api_client.post("/api/v1/outages/planned/preview", body, format="json")
    assert response.status_code == 200, response.json()
    preview = response.json()
    assert preview["customers"] == 8
    assert preview["important"] == 1
    assert preview["with_phone"] == 8
    assert preview["notice_required"] is True
    assert preview["notice_period_hours"] == 168
    assert preview["short_notice"] is True
    assert not Outage.objects.exists()
    bad = api_client.post(
        "/api/v1/outages/planned/preview",
        {"type": "planned_maintenance", "devices": []},
        format="json",
    )
    assert bad.status_code == 400


def test_publishing_a_notice_sends_it_to_every_affected_customer_once(
    api_client, dispatcher, network, django_capture_on_commit_callbacks
):
    # Given a planned outage on S1 and S2 (9 customers, each with a phone on file)
    start = timezone.now() + timedelta(days=8)
    outage = services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[network["S1"], network["S2"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=6),
        description="10kV 线路检修",
        actor=dispatcher,
    )
    api_client.force_authenticate(dispatcher)

    # When the dispatcher publishes its notice
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/outages/{outage.pk}/notice", {}, format="json")

    # Then one notice per customer is in the outbox, sent, naming the time and the reason
    assert response.status_code == 200, response.json()
    rows = Notification.objects.filter(outage=outage, event_key=f"notice:{outage.pk}")
    phones = {sp.phone for t in ("T1", "T2", "T3") for sp in network.sps[t]}
    assert set(rows.values_list("recipient", flat=True)) == phones
    assert rows.count() == 9
    assert set(rows.values_list("status", flat=True)) == {Notification.Status.SENT}
    assert all("10kV 线路检修" in r.body for r in rows)
    assert Subscription.objects.filter(outage=outage).count() == 9
    # and queueing the notice again writes nothing new
    with django_capture_on_commit_callbacks(execute=True):
        notifications_queue_for_outage(outage_id=outage.pk, kind="notice")
    assert Notification.objects.filter(outage=outage).count() == 9
