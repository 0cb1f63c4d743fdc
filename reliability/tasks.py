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

from dispatch_center.core.tasks import TASK_OPTIONS as CORE_TASK_OPTIONS
from dispatch_center.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

QUEUE = "analytics"
TASK_OPTIONS = {**CORE_TASK_OPTIONS, "queue": QUEUE}


@shared_task(name="reliability.frequent_outage_check_outage", **TASK_OPTIONS)
def frequent_outage_check_outage_task(outage_id: int) -> None:
    """Check the restored customers of ``outage_id`` and raise / update / close alerts."""
    from reliability.services import frequent_outage_check_outage

    summary = frequent_outage_check_outage(outage_id=outage_id)
    logger.info("frequent-outage check after outage %s: %s", outage_id, summary)


@shared_task(name="reliability.frequent_outage_check", **TASK_OPTIONS)
def frequent_outage_check_task(service_point_ids: list[int], as_of: str | None = None) -> None:
    """Check one chunk of customers."""
    from reliability.services import frequent_outage_check

    frequent_outage_check(
        service_point_ids=service_point_ids,
        as_of=date.fromisoformat(as_of) if as_of else None,
    )


# The steady nightly scan of a million customers takes seconds, but the first one after a
# policy change may write every alert; it commits in chunks, so a rerun resumes.
SCAN_OPTIONS = {**TASK_OPTIONS, "soft_time_limit": 1800, "time_limit": 1860}


@shared_task(name="reliability.frequent_outage_scan", **SCAN_OPTIONS)
def frequent_outage_scan_task(as_of: str | None = None) -> None:
    """Nightly: the full scan in one pass (one read of the histories, one of the open
    alerts; only the customers whose alerts change are written)."""
    from reliability.services import frequent_outage_scan_now

    summary = frequent_outage_scan_now(as_of=date.fromisoformat(as_of) if as_of else None)
    logger.info("frequent-outage full scan: %s", summary)


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
