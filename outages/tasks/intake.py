"""Celery tasks of the trouble report intake and the roll-up (thin wrappers).

``outages/tasks/__init__.py`` imports this module so that autodiscovery registers the tasks. The
sweeper runs from beat every 30 seconds (``dispatch_center/celery.py``). Every task is safe to
run twice: the services only move reports out of a given status with conditional updates,
and one roll-up runs at a time (advisory lock).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS, enqueue_on_commit

logger = logging.getLogger(__name__)

# A report still ``received`` this long after it came in lost its processing (a crash).
STUCK_AFTER = timedelta(seconds=60)


@shared_task(name="outages.rollup_run", **TASK_OPTIONS)
def rollup_run_task() -> None:
    """Run the roll-up once (``outages.services.rollup_service.rollup_run``).

    Clears the debounce key first, so a report committed while this run reads is not missed:
    it queues the next run. When another run holds the lock, queue one more after it.
    """
    from outages.services.rollup_service import rollup_request, rollup_request_clear, rollup_run

    rollup_request_clear()
    result = rollup_run()
    if result.skipped:
        rollup_request()


@shared_task(name="outages.report_process", **TASK_OPTIONS)
def report_process_task(report_id: int) -> None:
    """Resolve and place report ``report_id`` if it is still ``received``."""
    from dispatch_center.core.exceptions import NotFound
    from outages.services.intake import report_process

    try:
        report_process(report_id=report_id)
    except NotFound:
        logger.warning("report_process: report %s is gone", report_id)


@shared_task(name="outages.rollup_sweep", **TASK_OPTIONS)
def rollup_sweep_task() -> None:
    """Sweeper (beat): re-process reports stuck in ``received``; run the roll-up when reports
    are pending (the safety net under the debounced trigger)."""
    from django.utils import timezone

    from outages.models import TroubleReport

    stuck = TroubleReport.objects.filter(
        status=TroubleReport.Status.RECEIVED, received_at__lt=timezone.now() - STUCK_AFTER
    ).order_by("received_at", "pk")
    for report_id in stuck.values_list("pk", flat=True)[:500]:
        enqueue_on_commit(report_process_task, report_id)
    if TroubleReport.objects.filter(status=TroubleReport.Status.PENDING).exists():
        enqueue_on_commit(rollup_run_task)
