"""Celery tasks of the complaints app: the deadline sweeper (beat, every minute) and the
per-complaint check it enqueues. Both are safe to run twice: each mark is claimed with a
conditional update."""

from __future__ import annotations

from celery import shared_task

from dispatch_center.core.tasks import TASK_OPTIONS as CORE_TASK_OPTIONS
from dispatch_center.core.tasks import enqueue_on_commit

TASK_OPTIONS = {**CORE_TASK_OPTIONS, "ignore_result": True}


@shared_task(name="complaints.deadlines_sweep", **TASK_OPTIONS)
def complaint_deadlines_sweep_task() -> None:
    """Enqueue one deadline check per complaint with a warning or breach mark due."""
    from complaints.selectors import complaint_ids_deadline_due

    for complaint_id in complaint_ids_deadline_due():
        enqueue_on_commit(complaint_deadline_check_task, complaint_id)


@shared_task(name="complaints.deadline_check", **TASK_OPTIONS)
def complaint_deadline_check_task(complaint_id: int) -> None:
    """Set the due warning / breach marks of one complaint (with their timeline rows)."""
    from complaints.services import complaint_deadline_check

    complaint_deadline_check(complaint_id=complaint_id)
