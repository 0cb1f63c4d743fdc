"""Celery helpers: the task defaults every app uses, and enqueueing after commit.

This is the one place that sends a task after a write, and so the one place that makes a
broker outage harmless: the write is committed by the time the message is sent, so a broker
error must not turn it into an error answer (a client that retries would write twice). The
error is logged once per outage (``dispatch_center.core.degraded``) and the message dropped;
every task sent through here is one a sweeper re-sends for rows still due (dispatch requests,
notifications, the roll-up), so the work waits for Redis instead of being lost.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from typing import Any

from celery import Task
from django.db import transaction

from .degraded import REDIS_ERRORS, broker_breaker
from .exceptions import ExternalServiceError

logger = logging.getLogger(__name__)

# Messages dropped during the current request (``ApiMiddleware`` reports them in a header).
_deferred: contextvars.ContextVar[int] = contextvars.ContextVar("deferred_tasks", default=0)


def deferred_reset() -> contextvars.Token[int]:
    """Start counting dropped messages for a new request."""
    return _deferred.set(0)


def deferred_restore(token: contextvars.Token[int]) -> None:
    """End the count started by ``deferred_reset``."""
    _deferred.reset(token)


def deferred_count() -> int:
    """How many messages were dropped since ``deferred_reset``."""
    return _deferred.get()


def send_task_safely(task: Task, args: tuple[Any, ...], options: dict[str, Any]) -> bool:
    """``task.apply_async(args, **options)``; False (logged once) when the broker is down."""
    if broker_breaker.allow():
        try:
            task.apply_async(args=args, **options)
        except REDIS_ERRORS as exc:
            broker_breaker.failed(exc)
        else:
            broker_breaker.succeeded()
            return True
    _deferred.set(_deferred.get() + 1)
    logger.debug("Broker down: %s%r left to its sweeper", getattr(task, "name", task), args)
    return False


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
    ``apply_async`` (``queue``, ``countdown``...). Never raises for a broker outage (see the
    module docstring): the task must be one a sweeper re-sends.
    """
    send = functools.partial(send_task_safely, task, args, options)
    transaction.on_commit(send, using=using)
