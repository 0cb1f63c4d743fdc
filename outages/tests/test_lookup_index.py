"""The public look-up searching the process's address index: the same answers as the database
search, one statement, and never an answer from an index older than the rows."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grids.address import normalize_address
from grids.models import District, ServicePoint
from grids.selectors import address_snapshot
from grids.tests.factories import DistrictFactory, ServicePointFactory
from outages.selectors.lookup import lookup_points

STREETS = ["华强北路", "深南中路", "梅林路", "福华三路", "红荔西路"]
ESTATES = ["泰华山庄", "阳光名苑", "中海城", "百花新村"]


@pytest.fixture
def builds(monkeypatch):
    """Background builds asked for, instead of started (a test's rows are not committed)."""
    asked: list[int] = []
    monkeypatch.setattr(address_snapshot, "_start_build", lambda: asked.append(1))
    address_snapshot.reset()
    yield asked
    address_snapshot.reset()


@pytest.fixture
def city(network):
    """A few hundred service points in two districts (the network's eleven among them)."""
    rng = random.Random(11)
    futian = DistrictFactory()
    luohu = DistrictFactory(code="440303", name="罗湖区", name_en="Luohu")
    transformer = network["T1"]
    for i in range(300):
        district = futian if i % 3 else luohu
        street = rng.choice(STREETS)
        address = (
            f"深圳市{district.name}{street}{rng.randrange(1, 60)}号{rng.choice(ESTATES)}"
            f"{rng.randrange(1, 12)}栋{rng.randrange(101, 120)}"
        )
        ServicePointFactory(
            address=address,
            address_norm=normalize_address(address),
            district=district,
            transformer=transformer,
        )
    return network


def _fragments(rng: random.Random) -> list[str]:
    addresses = list(ServicePoint.objects.values_list("address", flat=True))
    out = ["华强北", "梅林路1", "泰华山庄", "福田区梅林路", "罗湖区华强北路", "南山区华强北路"]
    out += ["不存在的路", "路1号", "0301", "深南"]
    for address in rng.sample(addresses, 80):
        text = address.removeprefix("深圳市")
        out.append(text[: rng.randrange(4, len(text) + 1)])  # as typed, end cut off
        start = rng.randrange(3, len(text) - 3)
        out.append(text[start : start + rng.randrange(3, 8)])  # a piece from the middle
    return out


def _executed(queries: CaptureQueriesContext, text: str) -> int:
    return sum(text in q["sql"] for q in queries.captured_queries)


def test_the_index_answers_as_the_database_search(city, settings, builds):
    rng = random.Random(5)
    fragments = _fragments(rng)
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = False
    expected = [lookup_points(q, limit) for q in fragments for limit in (1, 10)]
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    snapshot = address_snapshot.build()
    assert snapshot.index.size == ServicePoint.objects.count()
    with CaptureQueriesContext(connection) as queries:
        answers = [lookup_points(q, limit) for q in fragments for limit in (1, 10)]
    assert answers == expected
    assert sum(1 for a in expected if a and a[0]) > 100  # most fragments find someone
    # Found in memory: no trigram probe of the service points, one statement per look-up.
    assert _executed(queries, "address_norm LIKE") == 0
    assert _executed(queries, "EXECUTE outages_lookup_indexed_points") == sum(
        1 for a in expected if a is not None
    )
    assert builds == []


def test_a_changed_address_is_found_at_once_and_the_index_rebuilt(city, settings, builds):
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    address_snapshot.build()
    point = ServicePoint.objects.order_by("pk").first()
    old_norm = point.address_norm
    assert point.pk in [p.id for p in lookup_points(old_norm, 10)[0]]
    point.address = "深圳市福田区彩田路88号新地址大厦3栋"
    point.address_norm = normalize_address(point.address)
    point.save()

    # The index still holds the old address: its match is not believed.
    moved = lookup_points(old_norm, 10)
    assert moved is None or point.pk not in [p.id for p in moved[0]]

    with CaptureQueriesContext(connection) as queries:
        found = lookup_points("彩田路88号新地址", 10)
    assert found is not None
    assert [p.id for p in found[0]] == [point.pk]
    assert _executed(queries, "address_norm LIKE") == 1  # the database answered
    assert address_snapshot._current is None
    assert builds  # a new index was asked for

    address_snapshot.build()
    with CaptureQueriesContext(connection) as queries:
        again = lookup_points("彩田路88号新地址", 10)
    assert again == found
    assert _executed(queries, "address_norm LIKE") == 0


def test_nothing_found_is_trusted_only_from_a_current_index(city, settings, builds):
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    address_snapshot.build()
    assert lookup_points("彩田路77号", 10) is None  # nowhere: the caller falls back
    assert builds == []
    ServicePointFactory(
        address="深圳市福田区彩田路77号",
        address_norm="彩田路77号",
        district=DistrictFactory(),
        transformer=city["T1"],
    )
    found = lookup_points("彩田路77号", 10)
    assert found is not None
    assert [p.address for p in found[0]] == ["深圳市福田区彩田路77号"]
    assert builds


def _version() -> int:
    with connection.cursor() as cursor:
        cursor.execute(address_snapshot.VERSION_SQL)
        return cursor.fetchone()[0]


def test_the_version_moves_with_what_the_index_holds_only(city):
    point = city.sps["T1"][0]
    before = _version()
    ServicePoint.objects.filter(pk=point.pk).update(customer_name="李四", lat=22.6)
    assert _version() == before
    for change in (
        lambda: ServicePoint.objects.filter(pk=point.pk).update(address_norm="新路1号"),
        lambda: ServicePoint.objects.filter(pk=point.pk).update(account_no="0399000000001"),
        lambda: ServicePoint.objects.filter(pk=point.pk).update(district=None),
        lambda: District.objects.filter(code="440304").update(name="福田"),
        lambda: ServicePointFactory(transformer=point.transformer),
        lambda: ServicePoint.objects.filter(pk=point.pk).delete(),
    ):
        change()
        after = _version()
        assert after > before
        before = after


@pytest.mark.django_db(transaction=True)
def test_a_web_process_builds_its_index_in_the_background(settings):
    from outages.tests.conftest import build_network

    build_network()
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    address_snapshot.reset()
    try:
        assert address_snapshot.current() is None  # not yet: the database answers meanwhile
        deadline = time.monotonic() + 30
        while address_snapshot._current is None and time.monotonic() < deadline:
            time.sleep(0.05)
        snapshot = address_snapshot.current()
        assert snapshot is not None
        assert snapshot.index.size == ServicePoint.objects.count() == 11
        assert snapshot.version == _version()
        for thread in threading.enumerate():
            if thread.name == "address-index":
                thread.join(timeout=10)
        assert not any(t.name == "address-index" for t in threading.enumerate())
    finally:
        address_snapshot.reset()


def test_a_forked_process_builds_its_own(monkeypatch, settings):
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    started: list[str] = []

    class FakeThread:
        def __init__(self, target, name, daemon):
            started.append(name)

        def start(self):
            pass

    monkeypatch.setattr(address_snapshot.threading, "Thread", FakeThread)
    address_snapshot.reset()
    monkeypatch.setattr(address_snapshot, "_building", 1)  # the parent's build, not ours
    address_snapshot._start_build()
    assert started == ["address-index"]
    address_snapshot._start_build()  # ours is under way: no second one
    assert started == ["address-index"]
    monkeypatch.setattr(address_snapshot, "_building", 0)
    address_snapshot.reset()


def test_off_elsewhere_than_postgresql_or_when_turned_off(settings, monkeypatch):
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = False
    assert address_snapshot.current() is None
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    monkeypatch.setattr(address_snapshot.connection, "vendor", "sqlite")
    assert address_snapshot.current() is None


def test_a_session_that_lost_the_prepared_statement_still_answers(city, settings, builds):
    settings.PUBLIC_LOOKUP_ADDRESS_INDEX = True
    address_snapshot.build()
    q = ServicePoint.objects.order_by("pk").first().address_norm
    expected = lookup_points(q, 10)
    assert expected is not None
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE outages_lookup_indexed_points")
    # Then the database answers this one, and the next is indexed again
    assert lookup_points(q, 10) == expected
    with CaptureQueriesContext(connection) as queries:
        assert lookup_points(q, 10) == expected
    assert _executed(queries, "PREPARE outages_lookup_indexed_points") == 1
    assert _executed(queries, "address_norm LIKE") == 0
