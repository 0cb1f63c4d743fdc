"""Domain events: delivered after commit, never on rollback, primitives only."""

import json

import pytest
from django.db import transaction

from outages import events, services
from outages.models import Outage
from outages.tests.factories import OutageFactory, outage_type

pytestmark = pytest.mark.django_db


def test_events_wait_for_commit(event_log, django_capture_on_commit_callbacks):
    outage = OutageFactory(status=Outage.Status.PREDICTED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.outage_transition(outage=outage, to=Outage.Status.CONFIRMED, actor=None)
        # Nothing is delivered while the transaction is open
        assert event_log == []
    assert callbacks
    names = [name for name, _ in event_log]
    assert names == ["outage.status_changed", "outage.confirmed", "outage.changed"]
    payload = dict(event_log[0][1])
    assert payload["outage_id"] == outage.pk
    assert (payload["from_status"], payload["to_status"]) == ("predicted", "confirmed")
    # Payloads survive a JSON round trip: they can go to a Celery task unchanged
    for _name, body in event_log:
        assert json.loads(json.dumps(body)) == body


@pytest.mark.django_db(transaction=True)
def test_events_are_not_delivered_on_rollback(event_log):
    outage = OutageFactory(status=Outage.Status.PREDICTED, type=outage_type("fault_mv_feeder"))

    # When the transaction that published the events rolls back
    def change_then_fail():
        with transaction.atomic():
            services.outage_transition(outage=outage, to=Outage.Status.CONFIRMED, actor=None)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        change_then_fail()
    # Then nobody heard of it
    assert event_log == []
    assert Outage.objects.get(pk=outage.pk).status == Outage.Status.PREDICTED
    # and a committed change is delivered
    outage = Outage.objects.get(pk=outage.pk)
    services.outage_transition(outage=outage, to=Outage.Status.CONFIRMED, actor=None)
    assert [n for n, _ in event_log] == [
        "outage.status_changed",
        "outage.confirmed",
        "outage.changed",
    ]


def test_publish_refuses_unknown_names_and_objects():
    with pytest.raises(ValueError, match="Unknown"):
        events.publish("outage.exploded", outage_id=1)
    with pytest.raises(TypeError):
        events.publish(events.OUTAGE_CHANGED, outage=object())


def test_a_failing_subscriber_does_not_stop_the_others(django_capture_on_commit_callbacks):
    seen = []

    def broken(event):
        raise RuntimeError("subscriber bug")

    def good(event):
        seen.append(event.payload["outage_id"])

    events.subscribe(events.REPORT_DANGER, broken)
    events.subscribe(events.REPORT_DANGER, good)
    events.subscribe(events.REPORT_DANGER, good)  # idempotent
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events.publish(events.REPORT_DANGER, report_id=7, outage_id=3)
    finally:
        events.unsubscribe(events.REPORT_DANGER, broken)
        events.unsubscribe(events.REPORT_DANGER, good)
    assert seen == [3]
