"""One reusable redis-py client per process on the default cache's connection pool.

Django's ``RedisCache`` builds a new ``redis.Redis`` client object for every operation, and
with redis-py 8 that construction costs more CPU than the round trip itself (about 1 ms per
operation: measured in ``bench/intake_throughput.py``). The per-call paths (the public
throttle, the roll-up trigger) keep one client per thread instead, on the cache backend's own
connection pool, and use the backend's key function, so their keys are the ones
``django.core.cache.cache`` reads and deletes.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache

_local = threading.local()


def default_cache_client() -> tuple[BaseCache, Any]:
    """(the default cache backend, a reusable redis client, or None for another backend)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return backend, None
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "backend", None) is not backend:
        client = backend._cache.get_client(None, write=True)
        _local.client, _local.backend = client, backend
    return backend, client
