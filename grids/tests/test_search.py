"""Address normalisation and service point search (PostgreSQL, with the trigram index)."""

import pytest
from django.db.models import Func

from grids.address import normalize_address, normalize_identifier, parse_address
from grids.models import District
from grids.selectors import service_point_search
from grids.tests.factories import DistrictFactory, ServicePointFactory

# --- normalisation (pure) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "norm", "district"),
    [
        (
            "深圳市福田区华富街道深南中路1003号荔枝苑3栋1204",
            "华富街道深南中路1003号荔枝苑3栋1204",
            "福田区",
        ),
        ("广东省 深圳市 福田区 深南中路１００３号", "深南中路1003号", "福田区"),
        ("中国广东深圳南山蛇口工业路", "蛇口工业路", "南山区"),
        ("福田深南中路", "深南中路", "福田区"),
        ("深圳市大鹏新区南澳街道水头村3巷12号", "南澳街道水头村3巷12号", "大鹏新区"),
        ("荔枝苑，3栋 1204。", "荔枝苑3栋1204", None),
        ("ａ座１５０３", "A座1503", None),
        ("3－1204", "3-1204", None),
        # A short district or city name that starts a proper name is kept.
        ("福田街道福华路", "福田街道福华路", None),
        ("宝安大道88号", "宝安大道88号", None),
        ("宝安北路", "宝安北路", None),
        ("深圳湾公园", "深圳湾公园", None),
        ("深圳北站", "深圳北站", None),
        ("福田区", "", "福田区"),
        ("福田", "福田", None),
    ],
)
def test_parse_address(text, norm, district):
    assert parse_address(text) == (norm, district)


def test_normalize_is_idempotent():
    text = "深圳市 福田区 华富街道 深南中路１００３号 荔枝苑"
    once = normalize_address(text)
    assert normalize_address(once) == once


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("0300000123", "0300000123"),
        ("０３００ ０００ １２３", "0300000123"),
        ("+86 138-1234-5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("深南中路", None),
        ("1003号", None),
    ],
)
def test_normalize_identifier(text, digits):
    assert normalize_identifier(text) == digits


# --- search ---------------------------------------------------------------------------------


def _sp(address, account, district, phone=None):
    return ServicePointFactory(
        address=address,
        address_norm=normalize_address(address),
        account_no=account,
        district=district,
        **({"phone": phone} if phone else {}),
    )


@pytest.fixture
def futian(db):
    return DistrictFactory(code="440304", name="福田区")


@pytest.fixture
def nanshan(db):
    return DistrictFactory(code="440305", name="南山区", name_en="Nanshan")


@pytest.fixture
def homes(futian, nanshan):
    """A hand-made neighbourhood around 深南中路1003号."""
    return {
        "flat": _sp(
            "深圳市福田区华富街道深南中路1003号荔枝苑3栋1204",
            "0300000001",
            futian,
            phone="13800000001",
        ),  # fmt: skip
        "building_b": _sp("深圳市福田区华富街道深南中路1003号", "0300000020", futian),
        "building_a": _sp("深圳市福田区福田街道深南中路1003号", "0300000010", futian),
        "compound": _sp("深圳市福田区深南中路1003号大院", "0300000030", futian),
        "typo": _sp("深圳市福田区华富街道深南中路1005号荔枝苑3栋1204", "0300000040", futian),
        "nanshan": _sp("深圳市南山区粤海街道深南大道9988号", "0300000050", nanshan),
        "futian_dadao": _sp("深圳市福田区莲花街道深南大道6008号", "0300000060", futian),
        "elsewhere": _sp("深圳市南山区蛇口街道工业八路12号", "0300000070", nanshan),
    }


def _accounts(hits):
    return [h.service_point.account_no for h in hits]


def test_finds_by_partial_fullwidth_and_prefixless_address(homes):
    flat = homes["flat"].account_no
    for q in (
        "荔枝苑3栋1204",
        "荔枝苑３栋１２０４",
        "荔枝苑 3 栋 1204",
        "深圳市福田区华富街道深南中路1003号荔枝苑3栋1204",
        "华富街道深南中路1003号荔枝苑3栋1204",
        "福田区 华富街道深南中路1003号荔枝苑3栋1204",
    ):
        hits = service_point_search(q=q)
        assert _accounts(hits)[0] == flat, q


def test_finds_by_account_and_phone(homes):
    flat = homes["flat"]
    for q in (flat.account_no, "０３００ ０００ ００１", flat.phone, "+86 138-0000-0001"):
        hits = service_point_search(q=q)
        assert hits, q
        assert hits[0].service_point.pk == flat.pk, q
        assert hits[0].score == 1.0


def test_partial_account_number_lists_accounts_starting_with_it(homes):
    hits = service_point_search(q="03000000")
    assert _accounts(hits) == sorted(sp.account_no for sp in homes.values())
    assert all(h.score < 1.0 for h in hits)


def test_ranking_prefix_then_shorter_contains(homes):
    hits = service_point_search(q="深南中路1003号")
    # prefix of the normalised address first; then contiguous matches, shorter first and
    # ties by account (building_a and building_b have equally long addresses). The near miss
    # (1005号) is left out: similarity is only a fallback when nothing contains the fragment.
    assert _accounts(hits) == ["0300000030", "0300000010", "0300000020", "0300000001"]
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)
    assert scores[0] > scores[1] == scores[2] > scores[3]


def test_short_fragment_uses_ranked_fallback(homes):
    hits = service_point_search(q="荔枝")
    assert _accounts(hits) == ["0300000001", "0300000040"]


def test_district_in_query_narrows_results(homes, futian, nanshan):
    both = service_point_search(q="深南大道")
    assert set(_accounts(both)[:2]) == {"0300000050", "0300000060"}
    in_nanshan = service_point_search(q="南山区深南大道")
    assert _accounts(in_nanshan)[0] == "0300000050"
    assert {h.service_point.district_id for h in in_nanshan} == {nanshan.pk}
    in_futian = service_point_search(q="深圳福田深南大道")
    assert _accounts(in_futian)[0] == "0300000060"
    assert {h.service_point.district_id for h in in_futian} == {futian.pk}


def test_limit_and_no_match(homes):
    assert len(service_point_search(q="深南", limit=2)) == 2
    assert service_point_search(q="不存在的路") == []
    assert service_point_search(q="   ") == []
    assert service_point_search(q="深圳市") == []


def test_exact_account_hides_partial_matches(futian):
    # Given a phone number that starts with another customer's account number
    _sp("深圳市福田区华富街道红荔路2号", "0300000099", futian, phone="03000000115")
    owner = _sp("深圳市福田区华富街道红荔路1号", "0300000011", futian)
    # When the account number is searched, only the account owner is listed
    hits = service_point_search(q="0300000011")
    assert [(h.service_point.pk, h.score) for h in hits] == [(owner.pk, 1.0)]


def test_similarity_finds_near_misses(homes):
    # Nothing contains "华富深南中路1006号" (no 街道, no such number): the nearest come back.
    hits = service_point_search(q="华富深南中路1006号")
    assert {"0300000001", "0300000020", "0300000040"} <= set(_accounts(hits))
    assert "0300000070" not in _accounts(hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s < 0.4 for s in scores)


def test_common_and_rare_fragments_rank_the_same_way(homes, monkeypatch):
    # The PostgreSQL path probes the trigram index and switches to an ordered index walk when
    # the fragment is common; both must give the same ranking.
    from grids.selectors import search

    expected = _accounts(service_point_search(q="深南中路"))
    monkeypatch.setattr(search, "PROBE_CAP", 1)
    assert _accounts(service_point_search(q="深南中路")) == expected
    assert len(expected) == 5


def test_slow_walk_falls_back_to_the_probed_sample(homes, monkeypatch):
    from grids.selectors import search

    expected = _accounts(service_point_search(q="深南中路"))
    # Given a fragment counted as common, whose ordered walk runs out of time
    monkeypatch.setattr(search, "PROBE_CAP", 1)
    monkeypatch.setattr(search, "_within_budget", lambda *args: None)
    # Then the prefix match and the two probed matches come back, ranked
    got = _accounts(service_point_search(q="深南中路"))
    assert len(got) == 3
    assert got[0] == expected[0] == "0300000030"
    assert got == [a for a in expected if a in got]


def test_time_budget_cancels_only_the_slow_statement(futian):
    from django.db import connection, transaction

    from grids.selectors import search

    slow = District.objects.annotate(nap=Func(0.5, function="pg_sleep")).values_list("pk", "nap")
    quick = District.objects.values_list("pk")
    with transaction.atomic(), connection.cursor() as cursor:
        assert search._within_budget(cursor, slow, 20, {}) is None
        assert search._within_budget(cursor, quick, 20, {"enable_seqscan": "off"}) == [(futian.pk,)]
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone()[0] == "on"
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db
def test_query_naming_a_district_the_city_does_not_have_returns_nothing():
    from grids.selectors import service_point_search

    assert service_point_search(q="深圳市福田区华强北路", limit=5) == []
