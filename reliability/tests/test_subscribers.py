"""The subscription to the outages app's restorations (eager tasks in the test thread)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services as outage_services
from outages.models import Outage
from outages.tests.factories import outage_type
from reliability.models import FrequentOutageAlert, FrequentOutagePolicy
from reliability.tests.conftest import days_ago, past_outage

pytestmark = pytest.mark.django_db


def test_partial_restoration_checks_the_restored_customers(
    network, django_capture_on_commit_callbacks
):
    FrequentOutagePolicy.objects.filter(is_active=True).update(period="rolling_365")
    for n in (20,):
        past_outage(network, "T1", days_ago(n))
        past_outage(network, "T3", days_ago(n))
    outage = outage_services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["B"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        started_at=timezone.now() - timedelta(hours=1),
    )
    # When S1 (T1, T2) comes back first
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outage_services.outage_restore_device(outage=outage, device=network["S1"], actor=None)
    # Then T1's customers (2 in 30 days) are warned; T3's are still out, not yet checked
    warned = set(FrequentOutageAlert.objects.values_list("service_point_id", flat=True))
    assert warned == network.below("T1")
    assert callbacks
    # When the rest comes back
    with django_capture_on_commit_callbacks(execute=True):
        outage_services.outage_restore(outage=Outage.objects.get(pk=outage.pk), actor=None)
    warned = set(FrequentOutageAlert.objects.values_list("service_point_id", flat=True))
    assert warned == network.below("T1", "T3")


def test_task_arguments_survive_json(network, django_capture_on_commit_callbacks):
    from unittest import mock

    from reliability import tasks

    outage = past_outage(network, "T4", days_ago(3))
    with mock.patch.object(tasks.frequent_outage_check_outage_task, "apply_async") as send:
        from outages import events

        with django_capture_on_commit_callbacks(execute=True):
            events.publish(events.OUTAGE_RESTORED, outage_id=outage.pk)
    assert send.called
    kwargs = send.call_args.kwargs
    assert json.loads(json.dumps(kwargs["args"])) == [outage.pk]
    assert kwargs["queue"] == "analytics"
