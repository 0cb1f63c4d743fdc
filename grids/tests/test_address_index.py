"""The in-memory address index on its own: exactly the rows a substring scan finds, ranked as
``service_point_search`` ranks them."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grids import address_index
from grids.address_index import AddressIndex

# A small alphabet, so that fragments are found in many addresses and trigrams collide.
ALPHABET = "路街号栋座12345AB"


def _brute_force(rows, fragment, limit, cap, districts):
    found = [
        (not norm.startswith(fragment), len(norm), account, pk)
        for pk, norm, account, district in rows
        if fragment in norm and (districts is None or (district or -1) in districts)
    ]
    if len(found) > cap:
        return None
    return len(found), [pk for *_, pk in sorted(found)[:limit]]


def _index(rows):
    ids, norms, accounts, districts = zip(*rows, strict=True) if rows else ((), (), (), ())
    return AddressIndex.build(ids, norms, accounts, districts)


def _answer(index, fragment, limit, cap, districts):
    count, top = index.search(fragment, limit=limit, cap=cap, districts=districts)
    if count > cap:
        assert top == []
        return None
    return count, [m.id for m in top]


rows_strategy = st.lists(
    st.tuples(
        st.text(ALPHABET, min_size=0, max_size=14),
        st.sampled_from([None, 1, 2]),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    rows=rows_strategy,
    fragment=st.text(ALPHABET, min_size=3, max_size=6),
    limit=st.integers(1, 12),
    cap=st.integers(1, 40),
    districts=st.sampled_from([None, frozenset({1}), frozenset({2, -1}), frozenset()]),
)
def test_search_is_a_ranked_substring_scan(rows, fragment, limit, cap, districts):
    table = [
        (1000 + i, norm, f"{(i * 7919) % 1000:04d}{i}", district)
        for i, (norm, district) in enumerate(rows)
    ]
    index = _index(table)
    assert _answer(index, fragment, limit, cap, districts) == _brute_force(
        table, fragment, limit, cap, districts
    )


def test_fragments_cut_from_the_addresses_find_them_first():
    rng = random.Random(3)
    streets = ["华强北路", "深南大道", "梅林路", "科技园路", "沙河西路"]
    table = []
    for i in range(3000):
        norm = f"{rng.choice(streets)}{rng.randrange(1, 400)}号{rng.randrange(1, 30)}栋{i % 97}"
        table.append((i + 1, norm, f"0301{i:08d}", rng.choice([1, 2, None])))
    index = _index(table)
    for pk, norm, _account, _district in rng.sample(table, 300):
        fragment = norm[: rng.randrange(3, len(norm) + 1)]
        expected = _brute_force(table, fragment, 10, 1000, None)
        assert _answer(index, fragment, 10, 1000, None) == expected
        if expected is not None and fragment == norm:
            assert pk in expected[1]


def test_characters_past_the_code_limit_share_one_code_and_stay_exact(monkeypatch):
    monkeypatch.setattr(address_index, "_CHAR_LIMIT", 16)
    table = [(i + 1, chr(0x4E00 + i) + chr(0x4E00 + 2 * i) + "路" + str(i), str(i), None)
             for i in range(200)]  # fmt: skip
    index = _index(table)
    for _pk, norm, _account, _district in table[::7]:
        assert _answer(index, norm[:3], 5, 100, None) == _brute_force(table, norm[:3], 5, 100, None)


def test_unknown_characters_and_trigrams_find_nothing():
    index = _index([(1, "华强北路1号", "01", None), (2, "华强南路2号", "02", None)])
    assert index.search("华强西", limit=5, cap=10) == (0, [])
    assert index.search("华强北路1号甲", limit=5, cap=10) == (0, [])
    assert index.search("路1号", limit=5, cap=10)[0] == 1


def test_an_empty_index_finds_nothing():
    assert _index([]).search("华强北", limit=5, cap=10) == (0, [])
    # Addresses too short to hold a trigram.
    assert _index([(1, "路1", "01", None), (2, "", "02", None)]).search(
        "路1号", limit=5, cap=10
    ) == (0, [])


def test_bad_input_is_refused():
    index = _index([(1, "华强北路1号", "01", None)])
    with pytest.raises(ValueError, match="three or more"):
        index.search("华强", limit=5, cap=10)
    with pytest.raises(ValueError, match="three or more"):
        index.search("华\x00强", limit=5, cap=10)
    with pytest.raises(ValueError, match="same length"):
        AddressIndex.build([1, 2], ["a"], ["1"], [None])


def test_memory_is_reported():
    index = _index([(i, f"华强北路{i}号", str(i), None) for i in range(1, 500)])
    assert index.size == 499
    assert 0 < index.nbytes < 1_000_000
