"""The planned-outage sweepers, with a real Celery worker on the Redis broker.

Transactional tests flush the tables afterwards; the root conftest re-loads the rows of the
data migrations (taxonomy, role groups, policies) before each transactional test.
"""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from outages.models import Interruption, Outage
from outages.tasks.planned import (
    planned_outage_start_task,
    planned_outages_restore_due_task,
    planned_outages_start_due_task,
)
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type

S = Outage.Status


def _wait_for(outage_id, status, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = Outage.objects.filter(pk=outage_id).values_list("status", flat=True).first()
        if current == status:
            return
        time.sleep(0.1)
    pytest.fail(f"outage {outage_id} stayed {current}, expected {status}")


def _planned(net, days=8):
    start = timezone.now() + timedelta(days=days)
    return services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[net["S1"]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="计划检修",
        actor=None,
    )


def _move_window(outage, start, end):
    """Time passes (the test cannot wait a week)."""
    Outage.objects.filter(pk=outage.pk).update(planned_start_at=start, planned_end_at=end)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_sweepers_start_and_restore_a_planned_outage(celery_worker):
    net = build_network()
    outage = services.planned_outage_publish_notice(outage=_planned(net), actor=None)
    _move_window(outage, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(hours=3))
    # When the start sweeper runs on the worker
    planned_outages_start_due_task.delay()
    # Then the outage starts and its customers' interruptions with it
    _wait_for(outage.pk, S.IN_PROGRESS)
    rows = Interruption.objects.filter(outage_id=outage.pk)
    assert rows.count() == 6
    assert not rows.filter(started_at__isnull=True).exists()
    # When its window has passed and the restore sweeper runs
    _move_window(outage, timezone.now() - timedelta(hours=3), timezone.now() - timedelta(minutes=1))
    planned_outages_restore_due_task.delay()
    _wait_for(outage.pk, S.RESTORED)
    assert not rows.filter(ended_at__isnull=True).exists()
    assert Outage.objects.get(pk=outage.pk).customers_restored == 6


@pytest.mark.django_db(transaction=True)
def test_sweeper_and_task_are_safe_to_run_twice():
    net = build_network()
    outage = _planned(net)
    _move_window(outage, timezone.now() - timedelta(minutes=1), timezone.now() + timedelta(hours=3))
    # Eager mode: the sweeper enqueues one start per due outage, twice
    planned_outages_start_due_task.delay()
    planned_outages_start_due_task.delay()
    planned_outage_start_task.delay(outage.pk)
    fresh = Outage.objects.get(pk=outage.pk)
    assert fresh.status == S.IN_PROGRESS
    assert fresh.events.filter(to_status=S.IN_PROGRESS).count() == 1
    # and a missing outage is logged, not an error
    planned_outage_start_task.delay(outage.pk + 1000)


@pytest.mark.django_db(transaction=True)
def test_sweepers_leave_outages_that_are_not_due():
    net = build_network()
    outage = _planned(net)
    planned_outages_start_due_task.delay()
    planned_outages_restore_due_task.delay()
    assert Outage.objects.get(pk=outage.pk).status == S.SCHEDULED
