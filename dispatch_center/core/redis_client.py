"""Reusable redis-py clients on the default cache's connection pool.

Django's ``RedisCache`` builds a new ``redis.Redis`` client object for every operation, and
with redis-py 8 that construction costs more CPU than the round trip itself (about 1 ms per
operation: measured in ``bench/intake_throughput.py``). ``ReusingRedisCache``, the project's
cache backend, keeps one client per connection pool instead (a client is thread-safe: it
takes a connection from its pool per command). The per-call paths that talk to Redis directly
(the public throttle, the roll-up trigger) take the backend's client from
``default_cache_client`` and use the backend's key function, so their keys are the ones
``django.core.cache.cache`` reads and deletes.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

_local = threading.local()


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own helpers (not in its type stubs): the pool a call uses, and the client class.
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
            client = self._clients[index] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class ReusingRedisCache(RedisCache):
    """Django's Redis cache, with one client per connection pool rather than one per call."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient


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
