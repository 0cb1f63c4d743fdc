"""Per-call service point look-ups (grids.selectors.service_points): account, address, nearest."""

import pytest
from django.db import connection

from grids.models import District
from grids.selectors import (
    service_point_for_account,
    service_point_nearest,
    service_points_with_address,
)
from grids.tests.factories import DistrictFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


def test_account_lookup_normalises_and_loads_only_what_is_asked():
    sp = ServicePointFactory(account_no="0300123456", phone="13800000001")

    found = service_point_for_account(" 0300-123 456 ")

    assert found is not None
    assert found.pk == sp.pk
    assert found.transformer_id == sp.transformer_id
    assert found.get_deferred_fields() >= {"address", "phone", "lat"}
    with_address = service_point_for_account("0300123456", fields=("address", "address_norm"))
    assert with_address is not None
    assert (with_address.address, with_address.address_norm) == (sp.address, sp.address_norm)


def test_account_lookup_ignores_phone_numbers_and_unknown_accounts():
    ServicePointFactory(account_no="0300123456", phone="13800000001")

    assert service_point_for_account("13800000001") is None
    assert service_point_for_account("0300999999") is None
    assert service_point_for_account("   ") is None


def test_address_lookup_is_exact_and_limited_and_honours_the_district():
    futian = DistrictFactory()
    nanshan = District.objects.create(code="440305", name="南山区", name_en="Nanshan")
    a = ServicePointFactory(address_norm="深南中路1号", district=futian, account_no="0300000002")
    b = ServicePointFactory(address_norm="深南中路1号", district=nanshan, account_no="0300000001")
    ServicePointFactory(address_norm="深南中路1号A", district=futian)

    both = service_points_with_address(norm="深南中路1号")
    assert [sp.pk for sp in both] == [b.pk, a.pk]  # by account number
    assert [sp.pk for sp in service_points_with_address(norm="深南中路1号", limit=1)] == [b.pk]
    in_futian = service_points_with_address(norm="深南中路1号", district="福田区")
    assert [sp.pk for sp in in_futian] == [a.pk]
    assert service_points_with_address(norm="深南中路1号", district="罗湖区") == []


def test_nearest_lookup_takes_the_closest_inside_the_radius():
    near = ServicePointFactory(lat=22.5400, lng=114.0800)
    ServicePointFactory(lat=22.5410, lng=114.0800)  # ~111 m north

    found = service_point_nearest(lat=22.5401, lng=114.0800, max_meters=150)
    assert found is not None
    assert (found.pk, found.transformer_id) == (near.pk, near.transformer_id)
    # ~22 m away from the nearest: outside a 10 m radius, inside a 30 m one.
    assert service_point_nearest(lat=22.5402, lng=114.0800, max_meters=10) is None
    assert service_point_nearest(lat=22.5402, lng=114.0800, max_meters=30) == near


def test_nearest_lookup_is_served_by_the_lat_lng_index():
    ServicePointFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["grids_sp_lat_lng_idx"]
        )
        (definition,) = cursor.fetchone()
    assert "(lat, lng)" in definition
