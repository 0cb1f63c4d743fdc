"""Celery tasks of the dashboard, on the ``analytics`` queue: thin wrappers.

Beat runs ``dashboard.nightly`` after midnight (``dispatch_center/celery.py``); it recomputes
the last two days (late restorations land in their day) and awards their automatic points.
Both are idempotent: a day's rows are replaced, an award is made once per item and call.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

from dispatch_center.core.exceptions import ExternalServiceError

logger = logging.getLogger(__name__)

QUEUE = "analytics"
TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (ExternalServiceError,),
    "retry_backoff": True,
    "max_retries": 5,
    "queue": QUEUE,
}


@shared_task(name="dashboard.nightly", **TASK_OPTIONS)
def dashboard_nightly_task(today: str | None = None, days_back: int = 2) -> None:
    """Recompute the stored figures of the last ``days_back`` days and award their points."""
    from dashboard.services import dashboard_nightly

    rows = dashboard_nightly(
        today=date.fromisoformat(today) if today else None, days_back=days_back
    )
    logger.info("dashboard figures: %s rows stored", rows)
