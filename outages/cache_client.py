"""Counters and flags in the default cache at one Redis round trip each, for per-call paths.

Django's ``RedisCache`` builds a new ``redis.Redis`` client object for every operation, and
with redis-py 8 that construction costs more CPU than the round trip itself (about 1 ms per
operation: measured in ``bench/intake_throughput.py``). The public intake and the roll-up
trigger run these on every call of a storm, so they keep one client per process (the
connection pool is the cache backend's own) and use the backend's key function, so the keys
are the ones ``django.core.cache.cache`` reads and deletes. Any other backend (the embedded
mode's local memory) goes through the ordinary cache API.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

_local = threading.local()


def _client() -> tuple[Any, Any]:
    """(the default cache backend, a reusable redis client or None)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return backend, None
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "backend", None) is not backend:
        client = backend._cache.get_client(None, write=True)
        _local.client, _local.backend = client, backend
    return backend, client


def incr_window(key: str, *, ttl: int) -> int:
    """Add one to counter ``key`` (created with a lifetime of ``ttl`` seconds); its value."""
    backend, client = _client()
    if client is None:
        if backend.add(key, 1, timeout=ttl):
            return 1
        return int(backend.incr(key))
    full = backend.make_and_validate_key(key)
    count = int(client.incr(full))
    if count == 1:
        client.expire(full, ttl)
    return count


def set_once(key: str, value: int, *, ttl: int) -> int | None:
    """Set ``key`` to ``value`` for ``ttl`` seconds unless it is set, in one round trip.

    Returns None when this call set it, else the value already there (Redis ``SET NX GET``).
    """
    backend, client = _client()
    if client is None:
        if backend.add(key, value, timeout=ttl):
            return None
        current = backend.get(key)
        return int(current) if current is not None else value
    old = client.set(backend.make_and_validate_key(key), value, nx=True, ex=ttl, get=True)
    return None if old is None else int(old)
