"""Celery tasks of the outages app: thin wrappers around one service each.

The two sweepers run from beat every minute (``dispatch_center/celery.py``); each selects the
due planned outages and enqueues one task per outage. Every task is safe to run twice: the
services compare-and-set the status, so a duplicate finds nothing to do.
"""

import logging

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS, enqueue_on_commit

logger = logging.getLogger(__name__)


@shared_task(name="outages.planned_outages_start_due", **TASK_OPTIONS)
def planned_outages_start_due_task() -> None:
    """Sweeper: enqueue ``planned_outage_start_task`` for each planned outage due to start."""
    from outages.selectors import planned_outage_ids_due_to_start

    for outage_id in planned_outage_ids_due_to_start():
        enqueue_on_commit(planned_outage_start_task, outage_id)


@shared_task(name="outages.planned_outages_restore_due", **TASK_OPTIONS)
def planned_outages_restore_due_task() -> None:
    """Sweeper: enqueue ``planned_outage_restore_task`` for each planned outage due to end."""
    from outages.selectors import planned_outage_ids_due_to_end

    for outage_id in planned_outage_ids_due_to_end():
        enqueue_on_commit(planned_outage_restore_task, outage_id)


@shared_task(name="outages.planned_outage_start", **TASK_OPTIONS)
def planned_outage_start_task(outage_id: int) -> None:
    """Start planned outage ``outage_id`` (→ in_progress) unless it already left scheduled /
    notified."""
    from dispatch_center.core.exceptions import ConcurrentUpdate, TransitionNotAllowed
    from outages.models import Outage
    from outages.services import planned_outage_start

    outage = Outage.objects.filter(pk=outage_id).first()
    if outage is None:
        logger.warning("planned_outage_start: outage %s is gone", outage_id)
        return
    if outage.status not in Outage.NOT_STARTED:
        return  # a duplicate delivery, or a dispatcher started / cancelled it first
    try:
        planned_outage_start(outage=outage, actor=None, actor_label="beat")
    except (ConcurrentUpdate, TransitionNotAllowed):
        logger.info("planned_outage_start: outage %s changed meanwhile", outage_id)


@shared_task(name="outages.planned_outage_restore", **TASK_OPTIONS)
def planned_outage_restore_task(outage_id: int) -> None:
    """Restore planned outage ``outage_id`` at the end of its window unless already done."""
    from dispatch_center.core.exceptions import ConcurrentUpdate, TransitionNotAllowed
    from outages.models import Outage
    from outages.services import outage_restore

    outage = Outage.objects.filter(pk=outage_id).first()
    if outage is None:
        logger.warning("planned_outage_restore: outage %s is gone", outage_id)
        return
    if outage.status not in (Outage.Status.IN_PROGRESS, Outage.Status.PARTIALLY_RESTORED):
        return
    try:
        outage_restore(outage=outage, actor=None, actor_label="beat")
    except (ConcurrentUpdate, TransitionNotAllowed):
        logger.info("planned_outage_restore: outage %s changed meanwhile", outage_id)
