"""The public look-up's places (the gazetteer) and its ``limit``."""

import pytest

from grids.gazetteer import PlaceRow
from grids.services.places import place_import
from outages.api import public as public_api
from outages.tests.test_public_api import LOOKUP, OUTAGE_KEYS, _assert_error_shape, _declare

pytestmark = pytest.mark.django_db

PLACE_KEYS = {"name", "kind", "address", "district", "lat", "lng", "radius", "outages_nearby",
              "outages"}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_cache():
    public_api.bump_public_version()


def _places(*rows):
    place_import(rows=[PlaceRow(*r) for r in rows])


def test_a_place_answers_with_the_outages_around_it(network, api_client):
    # Given two outages in Futian and a sub-district there, another far away in Dapeng
    fuse, switch = _declare(network, "FU"), _declare(network, "S2")
    _places(
        ("sub_district", "园岭街道", "福田区园岭街道", 22.541, 114.051, "福田区"),
        ("sub_district", "南澳街道", "大鹏新区南澳街道", 22.53, 114.48, "大鹏新区"),
    )
    # When someone looks up the sub-district, which no customer's address contains
    data = api_client.get(LOOKUP, {"q": "园岭街道"}).json()
    # Then the answer names the place and both outages nearby, biggest first
    assert data["matches"] == []
    (place,) = data["places"]
    assert set(place) == PLACE_KEYS
    assert (place["name"], place["kind"], place["district"]) == (
        "园岭街道",
        "sub_district",
        "福田区",
    )
    assert place["outages_nearby"] == 2
    assert [o["id"] for o in place["outages"]] == [switch.pk, fuse.pk]  # 3 customers, then 2
    assert set(place["outages"][0]) >= OUTAGE_KEYS
    far = api_client.get(LOOKUP, {"q": "南澳街道"}).json()["places"][0]
    assert (far["outages_nearby"], far["outages"]) == (0, [])


def test_customers_come_first_and_keep_the_contract_shape(network, api_client):
    _places(("road", "华强北路", "福田区华强北路", 22.54, 114.08, "福田区"))
    # Customers matched and the text is not a place's name: the contract's answer, no places
    data = api_client.get(LOOKUP, {"q": "华强北路4"}).json()
    assert set(data) == {"matches"}
    assert data["matches"]


def test_a_place_named_outright_comes_with_the_customers(network, api_client):
    # Given a road that customers' addresses also contain
    fuse = _declare(network, "FU")
    _places(("road", "华强北路", "福田区华强北路", 22.545, 114.045, "福田区"))
    # When the caller names the road itself
    data = api_client.get(LOOKUP, {"q": "华强北路"}).json()
    # Then the answer has both the customers and the road with the outage around it
    assert len(data["matches"]) == 5
    (road,) = data["places"]
    assert (road["name"], road["outages_nearby"]) == ("华强北路", 1)
    assert road["outages"][0]["id"] == fuse.pk


def test_places_in_english(network, api_client):
    _places(("sub_district", "园岭街道", "福田区园岭街道", 22.541, 114.051, "福田区"))
    data = api_client.get(LOOKUP, {"q": "园岭"}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["places"][0]["district"] == "Futian"


def test_limit_returns_more_matches_and_places(network, api_client):
    assert len(api_client.get(LOOKUP, {"q": "华强北路"}).json()["matches"]) == 5
    assert len(api_client.get(LOOKUP, {"q": "华强北路", "limit": 8}).json()["matches"]) == 8
    assert len(api_client.get(LOOKUP, {"q": "华强北路", "limit": 2}).json()["matches"]) == 2
    _places(*[("place", f"莲花山{i}号亭", "", 22.55, 114.05, "福田区") for i in range(25)])
    assert len(api_client.get(LOOKUP, {"q": "莲花山"}).json()["places"]) == 5
    assert len(api_client.get(LOOKUP, {"q": "莲花山", "limit": 20}).json()["places"]) == 20


@pytest.mark.parametrize("limit", ["0", "21", "-1", "many", "2.5"])
def test_limit_out_of_range_is_the_contract_400(api_client, limit):
    error = _assert_error_shape(api_client.get(LOOKUP, {"q": "华强北路", "limit": limit}), 400)
    assert set(error["fields"]) == {"limit"}


def test_numbers_never_match_places(network, api_client):
    _places(("place", "12345678", "", 22.55, 114.05, "福田区"))
    assert api_client.get(LOOKUP, {"q": "12345678"}).json() == {"matches": []}


def test_place_answers_are_cached(network, api_client, django_assert_num_queries):
    _places(("community", "红岭社区", "罗湖区红岭社区", 22.55, 114.10, "罗湖区"))
    first = api_client.get(LOOKUP, {"q": "红岭社区"}).json()
    with django_assert_num_queries(0):
        assert api_client.get(LOOKUP, {"q": "红岭社区"}).json() == first
    # Another limit is another answer (the same here: one place)
    assert api_client.get(LOOKUP, {"q": "红岭社区", "limit": 3}).json() == first
