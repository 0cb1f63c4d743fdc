"""The demo city: a reproducible plan, and a seed that can run again without duplicating."""

from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from shapely.geometry import Point, shape

from grids import demo_city
from grids.address import normalize_address
from grids.geodata import DISTRICTS
from grids.models import (
    Crew,
    CrewMember,
    Device,
    District,
    Feeder,
    Grid,
    Node,
    RepairStation,
    ServicePoint,
    Skill,
    SubDistrict,
    Substation,
)
from grids.services.demo import DEMO_PASSWORD, DEMO_USERS

# --- the plan (pure) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return demo_city.plan_city(feeders_per_grid=2, crews_per_station=3)


def test_plan_is_reproducible(plan):
    again = demo_city.plan_city(feeders_per_grid=2, crews_per_station=3)
    assert [g.cell.wkt for g in again.grids] == [g.cell.wkt for g in plan.grids]
    assert again.devices == plan.devices
    assert again.crews == plan.crews
    assert again.members == plan.members


def test_plan_covers_the_city(plan):
    assert len(plan.districts) == 10
    assert len(plan.subs) == 74
    assert len(plan.grids) == 73
    outlines = {d.code: demo_city._outline(d) for d in DISTRICTS}
    for sub in plan.subs:
        assert outlines[sub.district.code].contains(Point(sub.lng, sub.lat)), sub.info.name
    for grid in plan.grids:
        assert grid.cell.contains(Point(grid.lng, grid.lat)), grid.name
    # Ties stay inside a district: one network component per district.
    assert len(plan.components) == 10
    area = {s.info.name: s.area_class for s in plan.subs}
    assert area["南澳街道"] == "remote"
    assert area["葵涌街道"] == "rural"
    assert area["华富街道"] == "urban"


def test_feeders_are_radial_with_normally_open_ties(plan):
    kinds = Counter(d["kind"] for d in plan.devices)
    assert kinds["breaker"] == len(plan.feeders)
    assert kinds["load_break_switch"] > 0
    assert kinds["fuse"] > 0
    assert kinds["transformer"] > 0
    ties = [d for d in plan.devices if d.get("normally_open")]
    assert ties
    assert all(d["is_open"] and d["kind"] == "load_break_switch" for d in ties)
    assert all(d["code"].split("-TIE-")[0] == d["feeder"] for d in ties)


def test_service_points_do_not_depend_on_how_many_are_asked_for(plan):
    whole = [r for rows in demo_city.service_point_rows(plan, 0, 1200) for r in rows]
    tail = [r for rows in demo_city.service_point_rows(plan, 700, 1200) for r in rows]
    assert [r.index for r in whole] == list(range(1200))
    assert tail == whole[700:]


def test_service_point_rows_look_real(plan):
    rows = [r for chunk in demo_city.service_point_rows(plan, 0, 12_000) for r in chunk]
    accounts = [r.account_no for r in rows]
    assert len(set(accounts)) == len(rows)
    assert all(len(a) == 10 and a.isdigit() for a in accounts)
    assert [demo_city.account_index(a) for a in accounts[:50]] == list(range(50))
    assert all(len(r.phone) == 11 and r.phone.startswith("1") for r in rows)
    assert 0.005 < sum(r.is_important for r in rows) / len(rows) < 0.02
    subs = {s.info.code: s for s in plan.subs}
    for r in rows[:500]:
        sub = subs[r.sub_district]
        assert r.address.startswith(f"深圳市{sub.district.name}{sub.info.name}")
        assert r.address_norm == normalize_address(r.address)
        assert r.address_norm.startswith(sub.info.name)
        assert r.area_class == sub.area_class
        assert sub.cell.contains(Point(r.lng, r.lat))
    assert Counter(r.area_class for r in rows)["urban"] > 0.8 * len(rows)


# --- the seed command (database) ------------------------------------------------------------

MODELS = (District, SubDistrict, Grid, RepairStation, Skill, Crew, CrewMember, Substation, Feeder,
          Node, Device, ServicePoint)  # fmt: skip


def _counts():
    return {m.__name__: m.objects.count() for m in MODELS}


def _seed(n):
    call_command(
        "seed_demo",
        service_points=n,
        feeders_per_grid=1,
        crews_per_station=2,
        no_progress=True,
        verbosity=0,
    )


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_tops_up():
    # Given a city seeded with 300 service points
    _seed(300)
    first = _counts()
    first_accounts = list(ServicePoint.objects.order_by("account_no").values_list("account_no",
                          "address", "transformer__code"))  # fmt: skip
    # When it is topped up to 500 and then seeded again with the same number
    _seed(500)
    second = _counts()
    _seed(500)
    third = _counts()

    # Then reference data did not change, service points grew to 500 and then stayed there
    assert {k: v for k, v in second.items() if k != "ServicePoint"} == {
        k: v for k, v in first.items() if k != "ServicePoint"
    }
    assert (first["ServicePoint"], second["ServicePoint"]) == (300, 500)
    assert third == second
    # ... and the first 300 are untouched, the new ones continue the sequence
    accounts = list(
        ServicePoint.objects.order_by("account_no").values_list(
            "account_no", "address", "transformer__code"
        )
    )
    assert accounts[:300] == first_accounts
    assert [demo_city.account_index(a) for a, _, _ in accounts] == list(range(500))

    assert first["District"] == 10
    assert first["SubDistrict"] == 74
    assert first["Grid"] == 73
    assert first["RepairStation"] == 73
    assert first["Crew"] == 73 * 2
    assert first["Skill"] == len(demo_city.SKILLS)
    assert Grid.objects.filter(station__isnull=True).count() == 0


@pytest.mark.django_db
def test_seeded_city_is_consistent():
    _seed(400)
    bbox = {d.code: d.bbox for d in DISTRICTS}
    points = ServicePoint.objects.select_related(
        "district", "grid", "sub_district", "transformer__feeder__substation"
    )
    assert points.count() == 400
    for sp in points:
        # Supplied from a feeder of the same district, inside the district's bounding box.
        assert sp.transformer.kind == Device.Kind.TRANSFORMER
        assert sp.transformer.feeder.substation.district_id == sp.district_id
        assert sp.grid.district_id == sp.district_id
        assert sp.sub_district.district_id == sp.district_id
        min_lng, min_lat, max_lng, max_lat = bbox[sp.district.code]
        assert min_lng <= sp.lng <= max_lng, sp.address
        assert min_lat <= sp.lat <= max_lat, sp.address
        assert sp.address_norm == normalize_address(sp.address)
    for grid in Grid.objects.select_related("station"):
        assert shape(grid.boundary).contains(Point(grid.station.lng, grid.station.lat))
    for crew in Crew.objects.prefetch_related("members", "skills"):
        assert 2 <= crew.members.count() <= 4
        assert crew.skills.exists()
        assert 2 <= crew.capacity <= 4
        assert crew.last_lat is not None
    # The supply tree is built: everything is energised except the open ties.
    dark = set(Device.objects.filter(energized=False).values_list("code", flat=True))
    ties = set(Device.objects.filter(normally_open=True).values_list("code", flat=True))
    assert ties
    assert dark == ties
    assert not Device.objects.filter(kind=Device.Kind.TRANSFORMER, tree_pre__isnull=True).exists()


@pytest.mark.django_db
def test_seed_creates_demo_logins():
    _seed(0)
    for username, role in DEMO_USERS:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        if role == "superuser":
            assert user.is_superuser
            assert user.is_staff
        else:
            assert user.groups.filter(name=role).exists()
    crew_user = CrewMember.objects.select_related("user", "crew").get(user__username="crew")
    assert crew_user.crew == Crew.objects.order_by("code").first()
    # An existing user keeps its own password when the seed runs again.
    agent = crew_user.user.__class__.objects.get(username="agent")
    agent.set_password("changed-by-the-agent-1")
    agent.save()
    _seed(0)
    assert authenticate(username="agent", password="changed-by-the-agent-1") is not None
    assert CrewMember.objects.filter(user__username="crew").count() == 1
