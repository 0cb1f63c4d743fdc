"""Celery helpers: the task defaults every app uses, and enqueueing after commit."""

import functools
from typing import Any

from celery import Task
from django.db import transaction

from .exceptions import ExternalServiceError

# STYLE.md §4: late acknowledgement (a worker that dies mid-task leaves the message to be
# redelivered) and retries with back-off for external services. Apps add to a copy
# (``{**TASK_OPTIONS, "queue": ...}``), never change this one.
TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (ExternalServiceError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **options: Any) -> None:
    """Send ``task`` with ``args`` once the current transaction commits.

    ``functools.partial`` binds the arguments now, avoiding the late-binding bug of a lambda
    in a loop. Outside a transaction the task is sent at once. ``options`` go to
    ``apply_async`` (``queue``, ``countdown``...).
    """
    send = functools.partial(task.apply_async, args=args, **options)
    transaction.on_commit(send, using=using)
