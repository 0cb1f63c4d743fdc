"""The public rate limit: the client's address behind (un)trusted proxies, and an exact
sliding window in Redis that never lets twice the limit through across a minute boundary."""

import time
import uuid

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from dispatch_center.core import throttling
from dispatch_center.core.throttling import client_ip, parse_rate, sliding_window_hit

LOOKUP = "/api/v1/public/lookup"


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        # Nothing trusted (the default): the header is ignored whatever it says
        ([], "203.0.113.9", "1.2.3.4", "203.0.113.9"),
        ([], "203.0.113.9", None, "203.0.113.9"),
        # nginx on the same host: the address nginx appended is the client
        (["127.0.0.1"], "127.0.0.1", "1.2.3.4, 198.51.100.20", "198.51.100.20"),
        (["127.0.0.1"], "127.0.0.1", "198.51.100.20", "198.51.100.20"),
        # A request that did not come through the proxy cannot claim an address
        (["127.0.0.1"], "198.51.100.30", "1.2.3.4", "198.51.100.30"),
        # Two proxies (a load balancer network, then nginx): skip both, from the right
        (
            ["127.0.0.1", "10.0.0.0/8"],
            "127.0.0.1",
            "6.6.6.6, 198.51.100.40, 10.1.2.3",
            "198.51.100.40",
        ),
        # Garbage the client wrote left of a good hop does not matter; garbage as the nearest
        # hop leaves the proxy's own address
        (["127.0.0.1"], "127.0.0.1", "nonsense, 198.51.100.50", "198.51.100.50"),
        (["127.0.0.1"], "127.0.0.1", "nonsense", "127.0.0.1"),
        (["127.0.0.1"], "127.0.0.1", "", "127.0.0.1"),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_address_comes_only_from_trusted_proxies(trusted, remote, forwarded, expected):
    with override_settings(TRUSTED_PROXIES=trusted):
        assert client_ip(_request(remote, forwarded)) == expected


def test_rates_parse():
    assert parse_rate("60/min") == (60, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("100/hour") == (100, 3600)


def test_sliding_window_never_admits_twice_the_limit_across_a_boundary():
    # Given a limit of 5 per 2 s (a short period keeps the test short)
    key = f"throttle:test:{uuid.uuid4().hex}"
    limit, period = 5, 2
    accepted: list[float] = []
    # When a client sends a request every 50 ms for 5 s (straddling two window boundaries
    # of any fixed-window scheme)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if sliding_window_hit(key, limit=limit, period=period) is None:
            accepted.append(time.monotonic())
        time.sleep(0.05)
    cache.delete(key)
    # Then no interval of one period holds more than the limit (a fixed window lets up to
    # twice the limit through across a boundary; a token bucket too)
    worst = max(
        sum(1 for t in accepted if start <= t < start + period - 0.02) for start in accepted
    )
    assert worst <= limit
    # ...and the limit is used: the client gets about limit per period
    assert len(accepted) >= 2 * limit


def test_refusal_says_when_to_come_back():
    key = f"throttle:test:{uuid.uuid4().hex}"
    assert sliding_window_hit(key, limit=1, period=60) is None
    wait = sliding_window_hit(key, limit=1, period=60)
    assert wait is not None
    assert 59 <= wait <= 60
    cache.delete(key)


@pytest.mark.django_db
def test_changing_x_forwarded_for_does_not_bypass_the_public_limit(settings):
    # Given the default (no trusted proxy) and a limit of 3 a minute
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": "3/min"},
    }
    remote = f"198.51.100.{uuid.uuid4().int % 200 + 1}"
    cache.delete(f"throttle:public:{remote}")
    client = APIClient(REMOTE_ADDR=remote)
    # When a client sends a new X-Forwarded-For with every request
    statuses = [
        client.get(LOOKUP, {"q": "华强北路"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(6)
    ]
    # Then it is limited all the same
    assert statuses == [200, 200, 200, 429, 429, 429]
    cache.delete(f"throttle:public:{remote}")


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_has_its_own_limit(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": "2/min"},
    }
    clients = [f"192.0.2.{uuid.uuid4().int % 200 + 1}", "192.0.2.250"]
    for ip in clients:
        cache.delete(f"throttle:public:{ip}")
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    first = [
        proxy.get(LOOKUP, {"q": "华强北路"}, HTTP_X_FORWARDED_FOR=clients[0]).status_code
        for _ in range(3)
    ]
    second = proxy.get(LOOKUP, {"q": "华强北路"}, HTTP_X_FORWARDED_FOR=clients[1]).status_code
    assert first == [200, 200, 429]
    assert second == 200
    for ip in clients:
        cache.delete(f"throttle:public:{ip}")


def test_embedded_mode_without_redis_keeps_the_log_in_memory():
    log = throttling._MemoryLog()
    assert [log.hit("k", 2, 60) for _ in range(3)][:2] == [None, None]
    assert log.hit("k", 2, 60) is not None
