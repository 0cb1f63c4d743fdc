"""Switch-state telemetry: trips confirm outages, closes restore them, roles, idempotency."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from grids.models import Device
from outages import services
from outages.models import Interruption, Outage, ScadaEvent, TroubleReport
from outages.services.scada import Outcome, scada_event_apply
from outages.tests.factories import TroubleReportFactory, outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status
URL = "/api/v1/scada/events"


def _event(code, event, *, minutes_ago=1, commanded=False, at=None):
    return scada_event_apply(
        device_code=code,
        event=event,
        at=at or timezone.now() - timedelta(minutes=minutes_ago),
        commanded=commanded,
        actor=None,
    )


def _out(outage):
    return set(
        Interruption.objects.filter(
            outage=outage, started_at__isnull=False, ended_at__isnull=True
        ).values_list("service_point_id", flat=True)
    )


def test_uncommanded_open_confirms_an_outage_with_the_right_customers(network):
    result = _event("S1", "open", minutes_ago=3)
    outage = result.event.outage
    assert result.event.outcome == Outcome.CREATED
    assert (outage.status, outage.source) == (S.CONFIRMED, Outage.Source.SCADA)
    assert outage.device_id == network["S1"].pk
    assert _out(outage) == network.below("T1", "T2")
    assert outage.customers_affected == 6
    assert outage.started_at == result.event.at
    assert Device.objects.get(pk=network["S1"].pk).is_open


def test_close_restores_the_outage(network):
    outage = _event("S1", "open", minutes_ago=5).event.outage
    result = _event("S1", "close", minutes_ago=1)
    outage.refresh_from_db()
    assert result.event.outcome == Outcome.RESTORED
    assert outage.status == S.RESTORED
    assert outage.restored_at == result.event.at
    assert _out(outage) == set()
    assert not Device.objects.get(pk=network["S1"].pk).is_open


def test_closing_part_of_a_feeder_restores_partially(network):
    # Given the breaker tripped
    outage = _event("B", "open", minutes_ago=30).event.outage
    assert outage.customers_affected == 11
    # and the crew isolated the faulty section S1 before closing the breaker
    isolate = _event("S1", "open", minutes_ago=20, commanded=True)
    assert isolate.event.outcome == Outcome.COMMANDED
    assert Outage.objects.count() == 1
    back = _event("B", "close", minutes_ago=15)
    outage.refresh_from_db()
    # Then everyone but S1's section has supply again
    assert back.event.outcome == Outcome.PARTIALLY_RESTORED
    assert outage.status == S.PARTIALLY_RESTORED
    assert _out(outage) == network.below("T1", "T2")
    # And closing S1 after the repair restores the rest
    assert _event("S1", "close", minutes_ago=2).event.outcome == Outcome.RESTORED
    outage.refresh_from_db()
    assert outage.status == S.RESTORED


def test_commanded_open_during_a_planned_outage_adds_no_fault(network):
    start = timezone.now() - timedelta(minutes=10)
    planned = services.planned_outage_create(
        type=outage_type("temporary_maintenance"),
        devices=[network["S2"]],
        planned_start_at=start + timedelta(days=2),
        planned_end_at=start + timedelta(days=2, hours=3),
        description="检修",
        actor=None,
    )
    # Given the planned work has started (the crew switches S2 out now)
    planned = services.planned_outage_start(outage=planned, actor=None)
    result = _event("S2", "open", commanded=True, minutes_ago=0)
    assert result.event.outcome == Outcome.COMMANDED
    assert result.event.outage is None
    assert list(Outage.objects.values_list("pk", flat=True)) == [planned.pk]
    assert Outage.objects.get().status == S.IN_PROGRESS
    assert Device.objects.get(pk=network["S2"].pk).is_open


def test_a_trip_confirms_and_widens_the_predicted_outage_it_explains(network):
    # Given the roll-up predicted T1 from calls, and a T2 caller is still pending
    predicted = services.outage_create(
        type=outage_type("fault_transformer"),
        device=network["T1"],
        source=Outage.Source.ROLLUP,
        status=S.PREDICTED,
        actor=None,
        started_at=timezone.now() - timedelta(minutes=5),
    )
    pending = TroubleReportFactory(service_point=network.sps["T2"][1], status="pending")
    # When SCADA reports S1 tripped
    result = _event("S1", "open", minutes_ago=8)
    # Then the prediction is confirmed and moved up to S1 with T2's customers
    assert result.event.outcome == Outcome.CONFIRMED
    assert result.event.outage_id == predicted.pk
    predicted.refresh_from_db()
    assert predicted.status == S.CONFIRMED
    assert predicted.device_id == network["S1"].pk
    assert _out(predicted) == network.below("T1", "T2")
    assert Outage.objects.count() == 1
    pending.refresh_from_db()
    assert (pending.status, pending.outage_id) == (TroubleReport.Status.MERGED, predicted.pk)


def test_a_repeated_event_changes_nothing(network):
    at = timezone.now() - timedelta(minutes=2)
    first = _event("FU", "open", at=at)
    again = _event("FU", "open", at=at)
    assert not first.duplicate
    assert again.duplicate
    assert again.event.pk == first.event.pk
    assert ScadaEvent.objects.count() == 1
    assert Outage.objects.count() == 1


def test_an_event_older_than_the_last_one_is_ignored(network):
    _event("S2", "open", minutes_ago=10)
    _event("S2", "close", minutes_ago=5)
    late = _event("S2", "open", minutes_ago=8)  # delivered out of order
    assert late.event.outcome == Outcome.STALE
    assert not Device.objects.get(pk=network["S2"].pk).is_open
    assert Outage.objects.get().status == S.RESTORED


def test_a_second_trip_report_of_a_known_outage_adds_nothing(network):
    outage = _event("S2", "open", minutes_ago=10).event.outage
    again = _event("S2", "open", minutes_ago=9)  # another timestamp, same state
    assert again.event.outcome == Outcome.ALREADY_KNOWN
    assert again.event.outage_id == outage.pk
    assert Outage.objects.count() == 1


# --- the endpoint ---------------------------------------------------------------------------


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _body(**kwargs):
    body = {
        "device": "S1",
        "event": "open",
        "at": (timezone.now() - timedelta(minutes=1)).isoformat(),
        "commanded": False,
    }
    body.update(kwargs)
    return body


def test_gateway_posts_an_event_and_a_repeat_gets_the_first_answer(network, scada_gateway):
    client = _token_client(scada_gateway)
    body = _body()
    first = client.post(URL, body, format="json")
    assert first.status_code == 201, first.json()
    data = first.json()
    assert data["outcome"] == "created"
    assert data["device"] == "S1"
    assert data["duplicate"] is False
    outage = Outage.objects.get(pk=data["outage"])
    assert outage.customers_affected == 6
    repeat = client.post(URL, body, format="json")
    assert repeat.status_code == 200
    assert repeat.json()["id"] == data["id"]
    assert repeat.json()["duplicate"] is True
    assert Outage.objects.count() == 1


@pytest.mark.parametrize("role_user", ["outsider", "hotline_agent", "dispatcher", "crew_user"])
def test_only_the_gateway_role_may_post(network, role_user, request):
    client = _token_client(request.getfixturevalue(role_user))
    response = client.post(URL, _body(), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert not ScadaEvent.objects.exists()


def test_anonymous_is_told_to_authenticate(network, api_client):
    response = api_client.post(URL, _body(), format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_unknown_device_is_a_field_error(network, scada_gateway):
    response = _token_client(scada_gateway).post(URL, _body(device="NOPE"), format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["device"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": "trip"}, "event"),
        ({"at": "yesterday"}, "at"),
        ({"device": "T1"}, "device"),  # a transformer cannot switch
        ({"at": (timezone.now() + timedelta(hours=1)).isoformat()}, "at"),
    ],
)
def test_bad_events_are_refused_with_field_errors(network, scada_gateway, body, field):
    response = _token_client(scada_gateway).post(URL, _body(**body), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not ScadaEvent.objects.exists()
