"""The look-up's cache and rate limit in Redis: one round trip for a plain GET, the cached
JSON body answered as it is, the outages version and the language in the key, and the
answers without Redis (the embedded mode's cache, and Redis down)."""

import itertools
import uuid

import pytest
from django.core.cache import cache
from redis.connection import AbstractConnection
from rest_framework.test import APIClient

from dispatch_center.core.degraded import cache_breaker
from dispatch_center.core.redis_client import default_cache_client
from outages.api import public as public_api
from outages.tests.test_public_api import _declare

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/public/lookup"


@pytest.fixture(autouse=True)
def _fresh_cache():
    public_api.bump_public_version()


_addresses = itertools.count(1)


@pytest.fixture
def client():
    """A client with an address of its own (its own rate-limit log): none other in this run
    has it, whatever ran before."""
    n = next(_addresses)
    return APIClient(REMOTE_ADDR=f"198.18.{n // 250}.{n % 250 + 1}")


@pytest.fixture
def round_trips(monkeypatch):
    """The commands written to Redis, one list per round trip (a pipeline is one)."""
    sent: list[list[bytes]] = []
    real = AbstractConnection.send_packed_command

    def spy(self, command, check_health=True):
        chunks = command if isinstance(command, list) else [command]
        sent.append([bytes(chunk) for chunk in chunks])
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", spy)
    return sent


def _commands(trip: list[bytes]) -> list[bytes]:
    """The command names in one round trip's packed bytes (RESP arrays of bulk strings)."""
    data = b"".join(trip)
    names = []
    for part in data.split(b"*")[1:]:
        lines = part.split(b"\r\n")
        if len(lines) > 2 and lines[1].startswith(b"$"):
            names.append(lines[2].upper())
    return names


def _rates(settings, rate):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": rate},
    }


def _next_lookup(client):
    """Another look-up: it writes the answers the process computed before (``_deferred``)."""
    client.get(LOOKUP, {"q": f"别处{uuid.uuid4().hex[:6]}"})


def _raw_entry(q, limit=public_api.LOOKUP_LIMIT):
    backend, client = default_cache_client()
    _norm, key = public_api._lookup_key(q, limit)
    return client.get(backend.make_and_validate_key(key))


def test_a_plain_lookup_takes_one_redis_round_trip(
    network, client, round_trips, django_assert_num_queries
):
    sp = network.sps["T2"][1]
    client.get(LOOKUP, {"q": "预热"})  # the connection's own handshake aside
    public_api._deferred.clear()
    round_trips.clear()
    # When a query is asked for the first time
    first = client.get(LOOKUP, {"q": sp.address})
    # Then the rate limit and the cache read are one round trip, and nothing else
    assert first.status_code == 200
    assert [_commands(trip) for trip in round_trips] == [[b"EVALSHA", b"MGET"]]
    # ...and asked again, the process's next look-up writes the answer before its read: one
    # round trip, a hit, no statement
    round_trips.clear()
    with django_assert_num_queries(0):
        second = client.get(LOOKUP, {"q": sp.address})
    assert [_commands(trip) for trip in round_trips] == [[b"SET", b"EVALSHA", b"MGET"]]
    assert second.content == first.content
    round_trips.clear()
    with django_assert_num_queries(0):
        third = client.get(LOOKUP, {"q": sp.address})
    assert [_commands(trip) for trip in round_trips] == [[b"EVALSHA", b"MGET"]]
    assert third.content == first.content


def test_the_cached_body_is_the_answer_as_computed(network, client, django_assert_num_queries):
    _declare(network, "S1")
    public_api.bump_public_version()
    sp = network.sps["T2"][0]
    fresh = client.get(LOOKUP, {"q": sp.address})
    assert fresh.json()["matches"][0]["outage"] is not None
    # The entry is the outages version and the very bytes answered
    version = public_api.public_version()
    _next_lookup(client)
    assert _raw_entry(sp.address) == b"%d\n%b" % (version, fresh.content)
    with django_assert_num_queries(0):
        cached = client.get(LOOKUP, {"q": sp.address})
        # DRF's path (another parameter) decodes the same entry: the same answer
        drf_cached = client.get(LOOKUP, {"q": sp.address, "format": "json"})
    assert cached.content == fresh.content
    assert drf_cached.content == fresh.content
    assert cached["Content-Type"] == fresh["Content-Type"] == "application/json"


def test_drf_writes_the_entry_the_plain_get_answers(network, client, django_assert_num_queries):
    sp = network.sps["T3"][0]
    drf = client.get(LOOKUP, {"q": sp.address, "format": "json"})
    assert drf.status_code == 200
    with django_assert_num_queries(0):
        lean = client.get(LOOKUP, {"q": sp.address})
    assert lean.content == drf.content


def test_a_new_outages_version_is_never_answered_an_older_entry(
    network, client, django_capture_on_commit_callbacks
):
    sp = network.sps["T2"][1]
    before = client.get(LOOKUP, {"q": sp.address}).json()
    assert before["matches"][0]["outage"] is None
    # When an outage is declared (outage.changed bumps the version)
    with django_capture_on_commit_callbacks(execute=True):
        outage = _declare(network, "S1")
    # Then both paths answer afresh, though the old entry is still stored
    _next_lookup(client)
    assert _raw_entry(sp.address) is not None
    after = client.get(LOOKUP, {"q": sp.address}).json()
    assert after["matches"][0]["outage"]["id"] == outage.pk
    public_api.bump_public_version()
    drf = client.get(LOOKUP, {"q": sp.address, "format": "json"}).json()
    assert drf == after


def test_an_entry_of_another_version_is_a_miss(network, client, monkeypatch):
    sp = network.sps["T2"][1]
    client.get(LOOKUP, {"q": sp.address})
    backend, redis_client = default_cache_client()
    _norm, key = public_api._lookup_key(sp.address, public_api.LOOKUP_LIMIT)
    version = public_api.public_version()
    # An entry one version older, or with a version that merely starts like the current one
    computed = []
    real = public_api._lookup_fresh

    def spy(q, norm, limit):
        computed.append(q)
        return real(q, norm, limit)

    monkeypatch.setattr(public_api, "_lookup_fresh", spy)
    for stale in (b"%d\n{}" % (version - 1), b"%d0\n{}" % version, b"%d" % version, b"{}"):
        public_api._deferred.clear()  # a fresh entry waiting is not written over the stale one
        redis_client.set(backend.make_and_validate_key(key), stale)
        answer = client.get(LOOKUP, {"q": sp.address})
        assert answer.json()["matches"][0]["address"] == sp.address
    assert len(computed) == 4


def test_languages_are_cached_apart(network, client, django_assert_num_queries):
    _declare(network, "S2")
    public_api.bump_public_version()
    q = network.sps["T3"][0].address
    chinese = client.get(LOOKUP, {"q": q})
    english = client.get(LOOKUP, {"q": q}, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.json()["matches"][0]["district"] == "福田区"
    assert english.json()["matches"][0]["district"] == "Futian"
    with django_assert_num_queries(0):
        assert client.get(LOOKUP, {"q": q}, HTTP_ACCEPT_LANGUAGE="en").content == english.content
        assert client.get(LOOKUP, {"q": q}).content == chinese.content


def test_limits_are_cached_apart(network, client):
    q = network.sps["T2"][1].address
    assert _raw_entry(q, 1) is None
    client.get(LOOKUP, {"q": q, "limit": "1"})
    _next_lookup(client)
    assert _raw_entry(q, 1) is not None
    assert _raw_entry(q, 5) is None


def test_a_refused_plain_get_is_drfs_429(network, client, settings):
    _rates(settings, "2/min")
    sp = network.sps["T2"][1]
    statuses = [client.get(LOOKUP, {"q": sp.address}).status_code for _ in range(2)]
    refused = client.get(LOOKUP, {"q": sp.address})
    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 58 <= int(refused["Retry-After"]) <= 60
    # A refusal is not counted: the log still holds the two accepted requests
    ip = client.defaults["REMOTE_ADDR"]
    backend, redis_client = default_cache_client()
    assert redis_client.zcard(backend.make_and_validate_key(f"throttle:public:{ip}")) == 2
    cache.delete(f"throttle:public:{ip}")


def test_the_window_script_is_loaded_again_when_redis_lost_it(network, client, settings):
    _rates(settings, "2/min")
    sp = network.sps["T2"][1]
    assert client.get(LOOKUP, {"q": sp.address}).status_code == 200
    # When Redis forgets its scripts (a restart, SCRIPT FLUSH)
    _backend, redis_client = default_cache_client()
    redis_client.script_flush()
    # Then the limit still counts
    statuses = [client.get(LOOKUP, {"q": sp.address}).status_code for _ in range(2)]
    assert statuses == [200, 429]
    assert not cache_breaker.is_down


def test_redis_down_answers_from_the_database_and_fails_open(network, client, settings):
    # Given a limit of 1 a minute and a cache whose Redis does not answer
    sp = network.sps["T2"][1]
    reference = APIClient(REMOTE_ADDR="192.0.2.77").get(LOOKUP, {"q": sp.address})
    _rates(settings, "1/min")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    # When the same client asks three times
    answers = [client.get(LOOKUP, {"q": sp.address}) for _ in range(3)]
    # Then every request is answered from the database (the throttle fails open)
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.content == reference.content for a in answers)
    # ...and once the first request found Redis down, Redis is not even tried
    assert cache_breaker.is_down
    assert cache_breaker.failures == 1


def test_redis_down_on_the_drf_path_answers_from_the_database(network, client, settings):
    sp = network.sps["T2"][1]
    reference = client.get(LOOKUP, {"q": sp.address, "format": "json"})
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    answer = client.get(LOOKUP, {"q": sp.address, "format": "json"})
    assert answer.status_code == 200
    assert answer.content == reference.content
    assert cache_breaker.is_down


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    ],
)
def test_the_embedded_cache_answers_the_same(
    network, client, settings, tmp_path, backend, django_assert_num_queries
):
    # Given the embedded mode's cache (no Redis) and a limit of 2 a minute
    reference = client.get(LOOKUP, {"q": network.sps["T2"][1].address}).content
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": str(tmp_path / "cache")}}
    _rates(settings, "2/min")
    public_api.bump_public_version()
    q = network.sps["T2"][1].address
    # When a query is asked twice, then once more through DRF
    first = client.get(LOOKUP, {"q": q})
    with django_assert_num_queries(0):
        second = client.get(LOOKUP, {"q": q})
    refused = client.get(LOOKUP, {"q": q, "format": "json"})
    # Then the answers are those with Redis, the second from the cache, the third refused by
    # the in-memory log
    assert first.content == second.content == reference
    assert refused.status_code == 429
    # ...and the entry is the pair (version, body) in that cache
    _norm, key = public_api._lookup_key(q, public_api.LOOKUP_LIMIT)
    assert cache.get(key) == (public_api.public_version(), first.content)


def test_a_district_prefix_is_part_of_the_cached_query(network, client):
    # The network's customers are in 福田区 (华强北路...): the same street in 罗湖区 is not them.
    futian = client.get(LOOKUP, {"q": "福田区华强北路"}).json()["matches"]
    assert futian
    assert client.get(LOOKUP, {"q": "罗湖区华强北路"}).json()["matches"] == []
    assert client.get(LOOKUP, {"q": "福田区华强北路"}).json()["matches"] == futian


def test_a_deferred_answer_is_written_without_a_rate_or_once_redis_is_back(
    network, client, settings, round_trips
):
    sp = network.sps["T3"][1]
    client.get(LOOKUP, {"q": sp.address})
    assert _raw_entry(sp.address) is None
    assert len(public_api._deferred) == 1
    # With no rate for the scope the next look-up reads nothing in a round trip of its own:
    # the waiting answer is written on its own
    _rates(settings, None)
    _next_lookup(client)
    assert _raw_entry(sp.address) is not None
    # While Redis is down, waiting answers are dropped, not kept forever
    _rates(settings, "10000/min")
    client.get(LOOKUP, {"q": network.sps["T1"][0].address})
    assert len(public_api._deferred) == 1
    cache_breaker.failed(ConnectionError("down"))
    _next_lookup(client)
    assert len(public_api._deferred) == 0
