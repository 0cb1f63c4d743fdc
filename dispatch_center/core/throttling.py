"""The public rate limit: who the client is, and an exact sliding window per client.

**Who.** ``client_ip`` trusts ``X-Forwarded-For`` only when the request comes from one of
``TRUSTED_PROXIES`` (addresses or networks; default: none, so the socket's peer is the
client and the header is ignored). Behind trusted proxies the header is read from the right,
skipping the proxies' own addresses: the first address that is not a trusted proxy is the
client, whatever the client wrote further left. See README, "Production".

**How many.** ``SlidingWindowThrottle`` keeps the times of a client's accepted requests in
a Redis sorted set and accepts a request only while fewer than the limit lie in the last
period: exactly at most ``limit`` in any period-long interval, so no burst of twice the
limit across a minute boundary (a fixed window's weakness; a token bucket allows it too).
One script, one round trip, on Redis's own clock (several hosts agree); a caller may have
cache keys read in the same round trip (``sliding_window_hit_and_read``: the look-up reads its
cached answer there). The embedded mode without Redis keeps the same log in process memory.

**Redis down.** The throttle fails open: the request is served, the outage logged once
(``dispatch_center.core.degraded``). Refusing a customer's outage report because the limiter
is broken would be the worse failure.
"""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from django.conf import settings
from redis.exceptions import NoScriptError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .degraded import REDIS_ERRORS, cache_breaker
from .redis_client import default_cache_client

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# KEYS[1]: the client's log. ARGV: period (ms), limit, a random suffix for the member.
# Returns {1, 0} when accepted, else {0, ms until the oldest entry leaves the window}.
_SLIDING_WINDOW_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, t[1] .. t[2] .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + period - now}
"""


# --- the client's address -----------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def trusted_networks() -> tuple[IPNetwork, ...]:
    """``TRUSTED_PROXIES`` parsed (addresses or CIDR networks)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[IPNetwork, ...]
) -> bool:
    return any(addr in net for net in networks)


def client_ip(request: Any) -> str:
    """The client's address: the peer, or behind trusted proxies the nearest untrusted hop."""
    meta = request.META
    remote = str(meta.get("REMOTE_ADDR") or "")
    networks = trusted_networks()
    peer = _parse(remote)
    if peer is None or not networks or not _is_trusted(peer, networks):
        return remote
    client = str(peer)
    forwarded = str(meta.get("HTTP_X_FORWARDED_FOR") or "")
    for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
        addr = _parse(hop)
        if addr is None:
            break  # garbage from the client's side: the last good hop is all we know
        client = str(addr)
        if not _is_trusted(addr, networks):
            break
    return client


# --- the window ---------------------------------------------------------------------------


def parse_rate(rate: str) -> tuple[int, int]:
    """``"60/min"`` → (60, 60): the limit and the period in seconds."""
    num, _, period = rate.partition("/")
    return int(num), PERIODS[period.strip()[0]]


class _MemoryLog:
    """The sliding log in process memory, for the embedded mode's local-memory cache."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, period: int) -> float | None:
        now = time.monotonic()
        with self._lock:
            log = self._logs.setdefault(key, deque())
            while log and log[0] <= now - period:
                log.popleft()
            if len(log) < limit:
                log.append(now)
                return None
            return log[0] + period - now


_memory = _MemoryLog()
_scripts: dict[int, Any] = {}


def _script(client: Any) -> Any:
    """The window's script registered on ``client`` (once per client)."""
    script = _scripts.get(id(client))
    if script is None or script.registered_client is not client:
        script = _scripts[id(client)] = client.register_script(_SLIDING_WINDOW_LUA)
    return script


def _wait(accepted: Any, wait_ms: Any) -> float | None:
    """The script's answer as ``sliding_window_hit``'s."""
    return None if int(accepted) else max(int(wait_ms), 0) / 1000


def sliding_window_hit(key: str, *, limit: int, period: int) -> float | None:
    """Count one request under ``key``: None when accepted, else seconds until one would be.

    Fails open (None) while Redis is down.
    """
    backend, client = default_cache_client()
    if client is None:
        return _memory.hit(key, limit, period)
    if not cache_breaker.allow():
        return None
    script = _script(client)
    full_key = backend.make_and_validate_key(key)
    try:
        accepted, wait_ms = script(
            keys=[full_key], args=[period * 1000, limit, secrets.token_hex(4)]
        )
    except REDIS_ERRORS as exc:
        cache_breaker.failed(exc)
        return None
    cache_breaker.succeeded()
    return _wait(accepted, wait_ms)


def sliding_window_hit_and_read(
    key: str,
    *,
    limit: int,
    period: int,
    read: Sequence[str],
    write: Sequence[tuple[str, bytes, int | None]] = (),
) -> tuple[float | None, list[bytes | None] | None]:
    """``sliding_window_hit`` and, in the same Redis round trip, the raw values of the cache
    keys ``read`` (cache keys, made into Redis keys with the default cache's key function),
    after the raw writes ``write`` (Redis key, value, seconds to keep it), if any.

    The values are None when nothing was read: in the embedded mode without Redis (the log
    is kept in memory) and while Redis is down (the throttle fails open, as
    ``sliding_window_hit``). The script runs by its digest in a pipeline with the ``MGET``;
    only when Redis does not know it (restarted, flushed) is it loaded, and the round trip
    made again.
    """
    backend, client = default_cache_client()
    if client is None:
        return _memory.hit(key, limit, period), None
    if not cache_breaker.allow():
        return None, None
    sha = _script(client).sha
    full_key = backend.make_and_validate_key(key)
    args = (period * 1000, limit, secrets.token_hex(4))
    read_keys = [backend.make_and_validate_key(k) for k in read]

    def round_trip() -> list[Any]:
        pipe = client.pipeline(transaction=False)
        for write_key, value, seconds in write:
            pipe.set(write_key, value, ex=seconds)
        pipe.evalsha(sha, 1, full_key, *args)
        pipe.mget(read_keys)
        return list(pipe.execute())

    try:
        try:
            *_, (accepted, wait_ms), values = round_trip()
        except NoScriptError:
            client.script_load(_SLIDING_WINDOW_LUA)
            *_, (accepted, wait_ms), values = round_trip()
    except REDIS_ERRORS as exc:
        cache_breaker.failed(exc)
        return None, None
    cache_breaker.succeeded()
    return _wait(accepted, wait_ms), values


class SlidingWindowThrottle(BaseThrottle):
    """Per client address (``client_ip``), scope from ``scope``; the rate is
    ``DEFAULT_THROTTLE_RATES[scope]``, read per request (tests change it)."""

    scope = "public"

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def window_key(self, request: Request) -> str:
        """The cache key of the client's log."""
        return f"throttle:{self.scope}:{self.get_ident(request)}"

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True
        limit, period = parse_rate(str(rate))
        self.retry_after = sliding_window_hit(self.window_key(request), limit=limit, period=period)
        return self.retry_after is None

    def allow_request_and_read(
        self,
        request: Request,
        read: Sequence[str],
        write: Sequence[tuple[str, bytes, int | None]] = (),
    ) -> tuple[bool, list[bytes | None] | None]:
        """``allow_request``, and the raw values of the cache keys ``read`` read in the same
        Redis round trip (``sliding_window_hit_and_read``, with its ``write``); the values are
        None when nothing was read (no Redis, Redis down, or no rate for the scope: then
        nothing was written either)."""
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if not rate:
            return True, None
        limit, period = parse_rate(str(rate))
        self.retry_after, values = sliding_window_hit_and_read(
            self.window_key(request), limit=limit, period=period, read=read, write=write
        )
        return self.retry_after is None, values

    def wait(self) -> float | None:
        return self.retry_after


class PublicRateThrottle(SlidingWindowThrottle):
    """The public endpoints' limit (scope ``public``, ``PUBLIC_THROTTLE_RATE``)."""

    scope = "public"
