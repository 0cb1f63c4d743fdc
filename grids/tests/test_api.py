"""GET /api/v1/service-points/search: contract shape, validation, permissions, query count."""

import pytest
from django.contrib.auth.models import User

from grids.address import normalize_address
from grids.tests.factories import DeviceFactory, DistrictFactory, ServicePointFactory

URL = "/api/v1/service-points/search"


@pytest.fixture
def homes(db):
    futian = DistrictFactory(code="440304", name="福田区")
    transformer = DeviceFactory(code="440304009-F1-T07", kind="transformer")
    points = []
    for i, address in enumerate(
        [
            "深圳市福田区华富街道深南中路1003号荔枝苑3栋1204",
            "深圳市福田区华富街道深南中路1003号荔枝苑3栋1205",
            "深圳市福田区华富街道深南中路1003号荔枝苑5栋801",
            "深圳市福田区华富街道福华路18号",
        ]
    ):
        points.append(
            ServicePointFactory(
                account_no=f"030000000{i}",
                phone=f"1380000000{i}",
                address=address,
                address_norm=normalize_address(address),
                district=futian,
                transformer=transformer,
                lat=22.54 + i / 1000,
                lng=114.07,
            )
        )
    return points


def test_result_shape_follows_the_contract(api_client, dispatcher, homes):
    api_client.force_authenticate(dispatcher)
    response = api_client.get(URL, {"q": "荔枝苑３栋1204"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["results"]
    first = body["results"][0]
    assert set(first) == {"id", "account_no", "address", "district", "lat", "lng",
                          "transformer", "score"}  # fmt: skip
    sp = homes[0]
    assert first == {
        "id": sp.pk,
        "account_no": "0300000000",
        "address": sp.address,
        "district": "福田区",
        "lat": pytest.approx(22.54),
        "lng": pytest.approx(114.07),
        "transformer": "440304009-F1-T07",
        "score": first["score"],
    }
    assert 0 < first["score"] <= 1


def test_account_number_scores_one(api_client, hotline_agent, homes):
    api_client.force_authenticate(hotline_agent)
    response = api_client.get(URL, {"q": "0300000002"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["id"], r["score"]) for r in results] == [(homes[2].pk, 1.0)]


def test_results_are_ranked_and_limited(api_client, supervisor, homes):
    api_client.force_authenticate(supervisor)
    results = api_client.get(URL, {"q": "深南中路1003号", "limit": 2}).json()["results"]
    assert [r["account_no"] for r in results] == ["0300000002", "0300000000"]
    assert results[0]["score"] >= results[1]["score"]


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "x", "limit": 0}])
def test_missing_or_blank_q_is_400_in_contract_shape(api_client, dispatcher, params):
    api_client.force_authenticate(dispatcher)
    response = api_client.get(URL, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert error["fields"]
    assert set(error["fields"]) <= {"q", "limit"}


@pytest.mark.parametrize("role_user", ["dispatcher", "hotline_agent", "supervisor"])
def test_staff_roles_may_search(api_client, request, role_user, homes):
    api_client.force_authenticate(request.getfixturevalue(role_user))
    assert api_client.get(URL, {"q": "福华路"}).status_code == 200


def test_superuser_may_search(api_client, db, homes):
    admin = User.objects.create_superuser("root1", password="pass-for-tests-1")
    api_client.force_authenticate(admin)
    assert api_client.get(URL, {"q": "福华路"}).status_code == 200


@pytest.mark.parametrize("role_user", ["outsider", "crew_user", "scada_gateway"])
def test_other_users_are_forbidden(api_client, request, role_user, homes):
    api_client.force_authenticate(request.getfixturevalue(role_user))
    response = api_client.get(URL, {"q": "福华路"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_is_refused(api_client, homes):
    response = api_client.get(URL, {"q": "福华路"})
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_inactive_staff_is_refused(api_client, dispatcher, homes):
    dispatcher.is_active = False
    dispatcher.save()
    api_client.force_authenticate(dispatcher)
    assert api_client.get(URL, {"q": "福华路"}).status_code == 403


@pytest.mark.parametrize("q", ["福田区深南中路1003号荔枝苑", "0300000001", "苑3", "深南中路1004号"])
def test_search_query_count_is_bounded(
    api_client, dispatcher, homes, django_assert_max_num_queries, q
):
    api_client.force_login(dispatcher)
    # session, user and roles (3); district; the address tiers in one savepoint, each probe
    # one statement and each time-boxed statement three (savepoint, query, rollback); the
    # final load. The same whatever the number of matches (12 for these queries).
    with django_assert_max_num_queries(14):
        response = api_client.get(URL, {"q": q})
    assert response.status_code == 200
    assert response.json()["results"]
