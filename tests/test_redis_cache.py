"""The project's Redis cache backend: Django's, with one redis-py client per connection pool."""

from __future__ import annotations

import threading

import redis
from django.core.cache import cache, caches

from dispatch_center.core.redis_client import ReusingRedisCache, default_cache_client


def test_the_default_cache_reuses_one_client():
    backend = caches["default"]
    assert isinstance(backend, ReusingRedisCache)
    first = backend._cache.get_client(write=True)
    assert isinstance(first, redis.Redis)
    assert backend._cache.get_client(write=True) is first
    assert backend._cache.get_client("some-key") is backend._cache.get_client("another")
    assert default_cache_client()[1] is first


def test_operations_through_the_shared_client_from_many_threads():
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                key = f"reuse-test:{n}:{i}"
                cache.set(key, {"n": n, "i": i}, 30)
                assert cache.get_many([key, "reuse-test:missing"]) == {key: {"n": n, "i": i}}
                counter = f"reuse-test:counter:{n}"
                if i == 0:
                    cache.set(counter, 0, 30)
                else:
                    cache.incr(counter)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [cache.get(f"reuse-test:counter:{n}") for n in range(8)] == [49] * 8
