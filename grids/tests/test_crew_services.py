"""The crew writes and reads other apps use (grids.services.crews, grids.selectors.crews)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from grids import selectors, services
from grids.models import Crew, Skill
from grids.tests.factories import CrewFactory

pytestmark = pytest.mark.django_db


def test_position_moves_only_to_a_newer_ping():
    crew = CrewFactory(last_located_at=None)
    now = timezone.now()
    # Given a first ping
    assert services.crew_position_update(crew_id=crew.pk, lat=22.5, lng=114.0, at=now)
    # When an older ping arrives late, then the crew stays where the newer one put it
    older = now - timedelta(minutes=1)
    assert not services.crew_position_update(crew_id=crew.pk, lat=22.6, lng=114.1, at=older)
    crew.refresh_from_db()
    assert (crew.last_lat, crew.last_lng, crew.last_located_at) == (22.5, 114.0, now)
    # And a newer one moves it
    later = now + timedelta(seconds=30)
    assert services.crew_position_update(crew_id=crew.pk, lat=22.7, lng=114.2, at=later)
    crew.refresh_from_db()
    assert (crew.last_lat, crew.last_lng) == (22.7, 114.2)


def test_status_set_writes_only_rows_that_change_and_refuses_unknown_statuses():
    a = CrewFactory(status=Crew.Status.AVAILABLE)
    b = CrewFactory(status=Crew.Status.ON_SITE)
    changed = services.crew_status_set(crew_ids=[a.pk, b.pk], status=Crew.Status.ON_SITE)
    assert changed == 1
    assert set(Crew.objects.values_list("status", flat=True)) == {Crew.Status.ON_SITE}
    with pytest.raises(ValueError, match="unknown crew status"):
        services.crew_status_set(crew_ids=[a.pk], status="flying")


def test_on_duty_set_and_read_back():
    crew = CrewFactory(on_duty=True)
    before = Crew.objects.get(pk=crew.pk).updated_at
    services.crew_on_duty_set(crew_id=crew.pk, on_duty=False)
    assert selectors.crew_on_duty_by_id([crew.pk, 999999]) == {crew.pk: False}
    assert Crew.objects.get(pk=crew.pk).updated_at > before


def test_crews_are_locked_in_primary_key_order():
    crews = [CrewFactory() for _ in range(3)]
    with transaction.atomic():
        locked = list(services.crew_qs_for_update([crews[2].pk, None, crews[0].pk, crews[2].pk]))
    assert [c.pk for c in locked] == sorted([crews[0].pk, crews[2].pk])


def test_skill_by_code():
    skill = Skill.objects.create(code="hv-test", name="高压")
    assert selectors.skill_get_by_code("hv-test") == skill
    assert selectors.skill_get_by_code("nope") is None
    assert selectors.skill_get_by_code(None) is None
