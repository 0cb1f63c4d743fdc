"""Helpers to enqueue Celery tasks only after the surrounding transaction commits."""

import functools
from typing import Any

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **options: Any) -> None:
    """Send ``task`` with ``args`` once the current transaction commits.

    ``functools.partial`` binds the arguments now, avoiding the late-binding bug of a lambda
    in a loop. Outside a transaction the task is sent at once. ``options`` go to
    ``apply_async`` (``queue``, ``countdown``...).
    """
    send = functools.partial(task.apply_async, args=args, **options)
    transaction.on_commit(send, using=using)
