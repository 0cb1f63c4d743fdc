"""Celery tasks of the reliability app, on the ``analytics`` queue: thin wrappers.

The incremental check follows each restoration (``outage.restored`` and partial restorations,
``outage.customers_changed``); the nightly scan and the daily figures come from beat
(``dispatch_center/celery.py``). Every task is idempotent: the services store what they find
and a second run finds it already stored.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task

from dispatch_center.core.exceptions import ExternalServiceError
from dispatch_center.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

QUEUE = "analytics"
TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (ExternalServiceError,),
    "retry_backoff": True,
    "max_retries": 5,
    "queue": QUEUE,
}


@shared_task(name="reliability.frequent_outage_check_outage", **TASK_OPTIONS)
def frequent_outage_check_outage_task(outage_id: int) -> None:
    """Check the restored customers of ``outage_id`` and raise / update / close alerts."""
    from reliability.services import frequent_outage_check_outage

    summary = frequent_outage_check_outage(outage_id=outage_id)
    logger.info("frequent-outage check after outage %s: %s", outage_id, summary)


@shared_task(name="reliability.frequent_outage_check", **TASK_OPTIONS)
def frequent_outage_check_task(service_point_ids: list[int], as_of: str | None = None) -> None:
    """Check one chunk of customers (the nightly scan sends one task per chunk)."""
    from reliability.services import frequent_outage_check

    frequent_outage_check(
        service_point_ids=service_point_ids,
        as_of=date.fromisoformat(as_of) if as_of else None,
    )


@shared_task(name="reliability.frequent_outage_scan", **TASK_OPTIONS)
def frequent_outage_scan_task(as_of: str | None = None) -> None:
    """Sweeper (nightly): enqueue a check for each chunk of candidate customers."""
    from reliability.services import frequent_outage_scan

    day = date.fromisoformat(as_of) if as_of else None
    for chunk in frequent_outage_scan(as_of=day):
        enqueue_on_commit(frequent_outage_check_task, chunk, as_of, queue=QUEUE)


@shared_task(name="reliability.daily_compute", **TASK_OPTIONS)
def reliability_daily_compute_task(day: str) -> None:
    """Store one day's reliability figures (replacing that day's rows)."""
    from reliability.services import reliability_daily_compute

    reliability_daily_compute(day=date.fromisoformat(day))


@shared_task(name="reliability.daily_indices", **TASK_OPTIONS)
def reliability_daily_indices_task(days_back: int = 2) -> None:
    """Sweeper (daily): recompute the last ``days_back`` days (yesterday included, so late
    restorations of a day still land in its figures)."""
    from django.utils import timezone

    today = timezone.localdate()
    for n in range(days_back, 0, -1):
        enqueue_on_commit(
            reliability_daily_compute_task, (today - timedelta(days=n)).isoformat(), queue=QUEUE
        )
