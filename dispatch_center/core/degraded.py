"""Failing open when Redis (the cache, the throttle store, the Celery broker) is down.

A customer's call must be kept whatever happens to Redis: the paths that touch it before the
answer (the public throttle, the look-up cache, the roll-up trigger, task messages sent after
a commit) catch its errors through a ``Breaker`` and carry on without it. A breaker logs the
outage once per process (a warning when it opens, an info line when Redis answers again), not
once per request, and for ``REDIS_RETRY_SECONDS`` after a failure it tells callers to skip
Redis altogether, so that an unreachable host (a connect timeout rather than a refusal) does
not add a timeout to every request. Work skipped meanwhile is picked up by the sweepers once
Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings
from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger("dispatch_center.degraded")

T = TypeVar("T")

# What "Redis is unreachable" looks like from redis-py, Django's cache and kombu.
REDIS_ERRORS: tuple[type[BaseException], ...] = (
    redis.RedisError,
    KombuOperationalError,
    ConnectionError,
    TimeoutError,
    OSError,
)


class Breaker:
    """Per-process state of one dependency: up, or down since a failure.

    ``allow()`` is False for ``REDIS_RETRY_SECONDS`` after ``failed()``; then one caller
    tries again. Thread-safe; the log lines are written once per change of state.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self.failures = 0

    @property
    def is_down(self) -> bool:
        return self._down_since is not None

    def allow(self) -> bool:
        """Whether to try the dependency now (always while it is up)."""
        if self._down_since is None:
            return True
        return time.monotonic() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        """Record a failure; log it when the dependency was up until now."""
        retry = float(getattr(settings, "REDIS_RETRY_SECONDS", 2.0))
        now = time.monotonic()
        with self._lock:
            self.failures += 1
            self._retry_at = now + retry
            if self._down_since is not None:
                return
            self._down_since = now
        logger.warning(
            "%s is unavailable (%s: %s); carrying on without it, retrying every %.0f s",
            self.name,
            exc.__class__.__name__,
            exc,
            retry,
        )

    def succeeded(self) -> None:
        """Record a success; log the recovery when the dependency was down."""
        if self._down_since is None:
            return
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            logger.info("%s is back after %.1f s", self.name, time.monotonic() - since)

    def call(self, func: Callable[[], T], default: T) -> T:
        """``func()``, or ``default`` when the dependency is down or fails."""
        if not self.allow():
            return default
        try:
            result = func()
        except REDIS_ERRORS as exc:
            self.failed(exc)
            return default
        self.succeeded()
        return result

    def reset(self) -> None:
        """Forget the state (tests)."""
        with self._lock:
            self._down_since = None
            self._retry_at = 0.0
            self.failures = 0


# One per dependency: the cache and throttle (``REDIS_URL``), and the Celery broker.
cache_breaker = Breaker("Redis cache")
broker_breaker = Breaker("Celery broker")
