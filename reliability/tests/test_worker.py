"""The incremental check after a restoration and the nightly scan, run by a real Celery
worker on the Redis broker (the outages app publishes ``outage.restored``; this app's
subscriber enqueues the check on the analytics queue)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services as outage_services
from outages.models import Outage
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type
from reliability.models import FrequentOutageAlert, FrequentOutagePolicy
from reliability.tasks import (
    frequent_outage_check_outage_task,
    frequent_outage_check_task,
    frequent_outage_scan_task,
)
from reliability.tests.conftest import days_ago, past_outage

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait_for_alerts(count, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alerts = list(FrequentOutageAlert.objects.filter(status="open"))
        if len(alerts) >= count:
            return alerts
        time.sleep(0.1)
    pytest.fail(f"{len(alerts)} open alerts, expected {count}")


def _settle(timeout=10.0):
    """Wait until the worker has no task left (active or reserved)."""
    from dispatch_center.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(timeout=0.5)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        if not any(active.values()) and not any(reserved.values()):
            return
        time.sleep(0.1)


def test_restoration_raises_alerts_on_the_worker(celery_worker):
    # given: a rolling-year policy; T1's customers were out 45 and 40 days ago (normal)
    FrequentOutagePolicy.objects.update_or_create(
        is_active=True, defaults={"period": "rolling_365", "warning_recent": [[50, 3], [30, 2]]}
    )
    net = build_network()
    for n in (45, 40):
        past_outage(net, "T1", days_ago(n))
    _settle()
    assert not FrequentOutageAlert.objects.exists()
    # when: a new fault on T1 is restored now
    outage = outage_services.outage_create(
        type=outage_type("fault_transformer"),
        device=net["T1"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        started_at=timezone.now() - timedelta(minutes=50),
    )
    outage_services.outage_restore(outage=outage, actor=None)
    # then: the worker warns T1's three customers (exactly 3 in the last 50 days)
    alerts = _wait_for_alerts(3)
    assert sorted(a.service_point_id for a in alerts) == sorted(net.below("T1"))
    assert {a.level for a in alerts} == {"warning"}
    assert all(a.counts["last_50_days"] == 3 for a in alerts)
    before = sorted(
        FrequentOutageAlert.objects.values_list("pk", "level", "status", "last_changed_at")
    )
    # when: the same check and the nightly scan run again on the worker
    frequent_outage_check_outage_task.delay(outage.pk).get(timeout=20)
    frequent_outage_check_task.delay(sorted(net.all_sps)).get(timeout=20)
    frequent_outage_scan_task.delay().get(timeout=20)
    _settle()
    # then: nothing changed
    after = sorted(
        FrequentOutageAlert.objects.values_list("pk", "level", "status", "last_changed_at")
    )
    assert after == before
