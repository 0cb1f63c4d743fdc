"""Who runs the storm batch, and who asks for the next one.

**The lease.** One batch runs at a time. It holds a lease: a cache key holding a random
token, taken with ``SET NX`` and a short expiry (``WORKORDERS_BATCH_LEASE_SECONDS``, 15 s),
renewed every third of that by a daemon thread while the batch runs. Renewing and releasing
compare the token first (one Lua script each), so a batch whose lease lapsed (a process
paused past the expiry) can neither extend nor free its successor's. A worker killed with
``kill -9`` stops renewing: its lease is gone within the expiry and the next batch runs,
instead of the orders waiting out a fixed 300 s lock. The lease only saves work: two batches
that overlapped could still not assign an order twice (every assignment is a compare-and-set
on the order's status and version, under the crews' row locks).

**The debt.** Orders deferred to the batch leave a mark (``batch_owe``): a cache key holding
a fresh stamp. A batch reads the stamp when it starts and clears the mark when it ends only
if nobody stamped it again meanwhile; otherwise it asks for the next batch at once. The beat
run of the batch task runs while the mark is there, so the orders of a batch that died are
taken up within one beat interval of the lease expiring. A batch that finds the lease taken
does not ask again in a loop: it stamps the mark (the running batch will re-run) and asks
for one batch at the moment the lease would expire (debounced), in case the holder is dead.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache

from dispatch_center.core.tasks import enqueue_on_commit

from . import common

logger = logging.getLogger(__name__)

LEASE_KEY = "workorders:dispatch-batch-lease"
OWED_KEY = "workorders:dispatch-batch-owed"
# The mark outlives any storm; it only has an expiry so that a forgotten one disappears.
OWED_TIMEOUT_SECONDS = 3600

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lease_seconds() -> float:
    """The lease's expiry (``WORKORDERS_BATCH_LEASE_SECONDS``, default 15 s)."""
    return float(getattr(settings, "WORKORDERS_BATCH_LEASE_SECONDS", 15.0))


def _redis() -> Any | None:
    """The cache's Redis client, or None with another cache backend (the embedded mode runs
    tasks in-process, where the cache's own ``add`` and ``delete`` are enough)."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if get_client is None:
        return None
    return get_client(write=True)


def _key(name: str) -> str:
    return str(cache.make_and_validate_key(name))


class BatchLease:
    """A held lease on the storm batch (see the module docstring)."""

    def __init__(self, token: str, seconds: float) -> None:
        self.token = token
        self.seconds = seconds
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def acquire(cls, *, seconds: float | None = None) -> BatchLease | None:
        """Take the lease, or None when another batch holds it."""
        seconds = lease_seconds() if seconds is None else seconds
        token = secrets.token_hex(16)
        client = _redis()
        if client is None:
            taken = cache.add(LEASE_KEY, token, timeout=max(1, round(seconds)))
        else:
            taken = bool(client.set(_key(LEASE_KEY), token, nx=True, px=int(seconds * 1000)))
        return cls(token, seconds) if taken else None

    def renew(self) -> bool:
        """Push the expiry back; False (and ``lost``) when the lease is no longer ours."""
        client = _redis()
        if client is None:
            ok = cache.get(LEASE_KEY) == self.token and cache.touch(
                LEASE_KEY, timeout=max(1, round(self.seconds))
            )
        else:
            ok = bool(client.eval(_RENEW, 1, _key(LEASE_KEY), self.token, int(self.seconds * 1000)))
        if not ok:
            self.lost = True
        return ok

    def release(self) -> None:
        """Free the lease if it is still ours (never a successor's)."""
        self._stop_renewing()
        client = _redis()
        if client is None:
            if cache.get(LEASE_KEY) == self.token:
                cache.delete(LEASE_KEY)
        else:
            client.eval(_RELEASE, 1, _key(LEASE_KEY), self.token)

    @contextmanager
    def kept_alive(self) -> Iterator[BatchLease]:
        """Renew the lease from a daemon thread while the block runs."""
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._renew_until_stopped, name="batch-lease", daemon=True
        )
        self._thread.start()
        try:
            yield self
        finally:
            self._stop_renewing()

    def _renew_until_stopped(self) -> None:
        interval = self.seconds / 3.0
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    logger.warning("dispatch batch: lease lost while running")
                    return
            except Exception:  # a cache error must not kill the thread silently
                logger.exception("dispatch batch: lease renewal failed")

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None


def lease_remaining_seconds() -> float:
    """Seconds until the current lease expires (0 when nobody holds it)."""
    client = _redis()
    if client is None:
        return lease_seconds() if cache.get(LEASE_KEY) is not None else 0.0
    ms = client.pttl(_key(LEASE_KEY))
    return max(0.0, ms / 1000.0) if ms and ms > 0 else 0.0


# --- the debt -------------------------------------------------------------------------------


def batch_owe() -> str:
    """Mark that orders wait for a batch; returns the fresh stamp."""
    stamp = f"{time.time_ns()}-{secrets.token_hex(4)}"
    client = _redis()
    if client is None:
        cache.set(OWED_KEY, stamp, timeout=OWED_TIMEOUT_SECONDS)
    else:
        client.set(_key(OWED_KEY), stamp, ex=OWED_TIMEOUT_SECONDS)
    return stamp


def batch_owed() -> str | None:
    """The current stamp of the mark, or None when no batch is owed."""
    client = _redis()
    value = cache.get(OWED_KEY) if client is None else client.get(_key(OWED_KEY))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def batch_settle(stamp: str | None) -> bool:
    """Clear the mark if it still holds ``stamp`` (what the batch saw when it started).
    Returns False when orders were deferred since: the caller asks for the next batch."""
    if stamp is None:
        return batch_owed() is None
    client = _redis()
    if client is None:
        if cache.get(OWED_KEY) == stamp:
            cache.delete(OWED_KEY)
            return True
        return cache.get(OWED_KEY) is None
    if client.eval(_RELEASE, 1, _key(OWED_KEY), stamp):
        return True
    return batch_owed() is None


def batch_schedule(*, countdown: float | None = None) -> bool:
    """Ask for a batch (debounced: at most one pending batch task at a time) and stamp the
    mark. Returns whether a task was enqueued."""
    from workorders.tasks import work_orders_dispatch_batch_task

    batch_owe()
    delay = common.conf().batch_delay_seconds if countdown is None else countdown
    if not cache.add(common.BATCH_SCHEDULED_KEY, 1, timeout=max(1, int(delay) + 5)):
        return False
    enqueue_on_commit(work_orders_dispatch_batch_task, queue="dispatch", countdown=delay)
    return True


def batch_schedule_now() -> None:
    """Enqueue the next batch at once, past the debounce (a finishing batch whose mark was
    stamped meanwhile: the orders deferred while it ran must not wait for beat). No delay:
    the orders that arrived during the running batch have waited for it already, and the
    delay of ``batch_schedule`` only gathers the first orders of a burst."""
    from workorders.tasks import work_orders_dispatch_batch_task

    cache.set(common.BATCH_SCHEDULED_KEY, 1, timeout=5)
    enqueue_on_commit(work_orders_dispatch_batch_task, queue="dispatch", countdown=0)
