"""Celery tasks of the notification outbox (thin wrappers around ``outages.notifications``).

``outages/tasks/__init__.py`` imports this module so that autodiscovery registers the tasks. The
sweeper runs from beat every minute (``dispatch_center/celery.py``). Every task is safe to run
twice: queueing inserts nothing new for a change already queued, and sending claims the row with a
conditional update first.
"""

from __future__ import annotations

import logging

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS, enqueue_on_commit

logger = logging.getLogger(__name__)


@shared_task(name="outages.notifications_queue", **TASK_OPTIONS)
def notifications_queue_task(outage_id: int, kind: str, etr: str | None = None) -> None:
    """Queue the messages of one outage change (``notifications_queue_for_outage``)."""
    from outages.notifications import notifications_queue_for_outage

    notifications_queue_for_outage(outage_id=outage_id, kind=kind, etr=etr)


@shared_task(name="outages.notification_send", **TASK_OPTIONS)
def notification_send_task(notification_id: int) -> None:
    """Send one queued notification at most once (``notification_send``); a temporary
    gateway failure raises ``ExternalServiceError`` and the task retries with backoff."""
    from outages.notifications import notification_send

    notification_send(notification_id=notification_id)


@shared_task(name="outages.notifications_sweep", **TASK_OPTIONS)
def notifications_sweep_task() -> None:
    """Sweeper: enqueue a send task again for each queued row whose task seems lost; fail the
    rows a dead worker left in ``sending`` (``notifications_sweep``)."""
    from outages.notifications import notifications_sweep

    lost, stuck = notifications_sweep()
    if stuck:
        logger.warning("Notifications: %s rows interrupted while sending marked failed", stuck)
    for pk in lost:
        enqueue_on_commit(notification_send_task, pk)
