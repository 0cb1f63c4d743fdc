"""Celery task that publishes the public map's snapshot (a thin wrapper).

``outages/tasks/__init__.py`` imports this module so that autodiscovery registers the task. It is
sent by ``outages.publicmap.snapshot.on_outage_changed`` (throttled) and by beat every few minutes
(``dispatch_center/celery.py``). Safe to run twice: each run publishes the current picture as one
more version; readers only ever see complete versions.
"""

from __future__ import annotations

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS


@shared_task(name="outages.snapshot_publish", **TASK_OPTIONS)
def snapshot_publish_task(deferred: bool = False) -> None:
    """Publish a new snapshot version (``outages.publicmap.snapshot.snapshot_publish``).

    ``deferred``: this is the one publish scheduled for the end of a throttle window; it
    marks its start (opening the next window, clearing the pending mark) *before* reading,
    so a change committed meanwhile is either read now or schedules the next publish.
    """
    from django.conf import settings

    from outages.publicmap.publishing import deferred_publish_started
    from outages.publicmap.snapshot import THROTTLE_KEY, snapshot_publish

    if deferred:
        deferred_publish_started(THROTTLE_KEY, interval=settings.SNAPSHOT_MIN_INTERVAL)
    snapshot_publish()
