"""Counters and flags in the default cache at one Redis round trip each, for per-call paths.

They run on every call of a storm (the roll-up trigger), so they use one redis client per
process (``dispatch_center.core.redis_client``) and the backend's key function, so the keys
are the ones ``django.core.cache.cache`` reads and deletes. Any other backend (the embedded
mode's local memory) goes through the ordinary cache API. With Redis down they fail open
(``dispatch_center.core.degraded``), logged once: the call that needs them is served anyway.
"""

from __future__ import annotations

from dispatch_center.core.degraded import REDIS_ERRORS, cache_breaker
from dispatch_center.core.redis_client import default_cache_client


def incr_window(key: str, *, ttl: int) -> int:
    """Add one to counter ``key`` (created with a lifetime of ``ttl`` seconds); its value.

    0 while Redis is down.
    """
    backend, client = default_cache_client()
    if client is None:
        if backend.add(key, 1, timeout=ttl):
            return 1
        return int(backend.incr(key))
    if not cache_breaker.allow():
        return 0
    full = backend.make_and_validate_key(key)
    try:
        count = int(client.incr(full))
        if count == 1:
            client.expire(full, ttl)
    except REDIS_ERRORS as exc:
        cache_breaker.failed(exc)
        return 0
    cache_breaker.succeeded()
    return count


def set_once(key: str, value: int, *, ttl: float) -> int | None:
    """Set ``key`` to ``value`` for ``ttl`` seconds (to the millisecond, at least one) unless
    it is set, in one round trip.

    Returns None when this call set it, else the value already there (Redis ``SET NX GET``).
    While Redis is down it answers ``value``, as if set by someone else: the caller does
    not act on it (the broker, the same Redis, is down too; the sweepers catch up).
    """
    backend, client = default_cache_client()
    ms = max(int(ttl * 1000), 1)
    if client is None:
        if backend.add(key, value, timeout=ms / 1000):
            return None
        current = backend.get(key)
        return int(current) if current is not None else value
    if not cache_breaker.allow():
        return value
    try:
        old = client.set(backend.make_and_validate_key(key), value, nx=True, px=ms, get=True)
    except REDIS_ERRORS as exc:
        cache_breaker.failed(exc)
        return value
    cache_breaker.succeeded()
    return None if old is None else int(old)
