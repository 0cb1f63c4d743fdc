"""Builders for the work-orders tests.

Reference rows loaded by data migrations (SLA and pool policies, outage taxonomy, role groups)
are re-created with ``get_or_create`` because transactional tests flush the tables.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.utils import timezone

from dispatch_center.core import roles
from grids.models import AreaClass, Crew, CrewMember, Grid, RepairStation, Skill
from grids.tests.factories import CrewFactory, GridFactory, RepairStationFactory
from workorders import services
from workorders.models import PoolPolicy, SlaPolicy, WorkOrder

LAT, LNG = 22.54, 114.05  # Futian; 0.01 degree of latitude is about 1.1 km
_seq = itertools.count(1)

SLA_DEFAULTS = {
    AreaClass.URBAN: (45, 180),
    AreaClass.RURAL: (90, 240),
    AreaClass.REMOTE: (120, 240),
}


def reference_data() -> None:
    """The rows the data migrations load (idempotent)."""
    for area, (arrive, restore) in SLA_DEFAULTS.items():
        SlaPolicy.objects.get_or_create(
            area_class=area,
            defaults={"arrive_minutes": arrive, "restore_minutes": restore, "warning_ratio": 0.8},
        )
    PoolPolicy.objects.get_or_create(
        grid=None,
        kind="",
        defaults={"enabled": True, "ttl_seconds": 300, "max_claimed_per_crew": 2},
    )
    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)


def skill(code: str) -> Skill:
    return Skill.objects.get_or_create(code=code, defaults={"name": code})[0]


def make_grid(**kwargs) -> Grid:
    return GridFactory(**kwargs)


def make_crew(
    *,
    dlat: float = 0.0,
    dlng: float = 0.0,
    capacity: int = 3,
    skills: tuple[str, ...] = ("lv",),
    grid: Grid | None = None,
    on_duty: bool = True,
    located: bool = True,
) -> Crew:
    """A crew whose station is in ``grid``, at (LAT + dlat, LNG + dlng)."""
    if grid is None:
        station = RepairStationFactory()
    else:  # one station per grid
        station = RepairStation.objects.filter(grid=grid).first() or RepairStationFactory(grid=grid)
    crew = CrewFactory(
        station=station,
        capacity=capacity,
        on_duty=on_duty,
        last_lat=LAT + dlat if located else None,
        last_lng=LNG + dlng if located else None,
        last_located_at=timezone.now() - timedelta(minutes=1) if located else None,
    )
    crew.skills.set([skill(code) for code in skills])
    return crew


def crew_user(crew: Crew, username: str | None = None) -> User:
    """A login in the crew-member role, member of ``crew``."""
    user = User.objects.create_user(
        username=username or f"crew{next(_seq)}", password="pass-for-tests-1"
    )
    user.groups.add(Group.objects.get_or_create(name=roles.CREW_MEMBER)[0])
    CrewMember.objects.create(crew=crew, user=user, name=user.username)
    return user


def make_order(
    *,
    kind: str = WorkOrder.Kind.PREMISE_REPAIR,
    dlat: float = 0.0,
    dlng: float = 0.0,
    grid: Grid | None = None,
    dispatch: bool = False,
    **kwargs,
) -> WorkOrder:
    """An order raised through the service (no dispatch unless asked)."""
    return services.work_order_create(
        kind=kind,
        title=kwargs.pop("title", "测试工单"),
        actor=None,
        lat=LAT + dlat,
        lng=LNG + dlng,
        grid=grid,
        dispatch=dispatch,
        **kwargs,
    )


def force_status(order: WorkOrder, status: str, *, crew: Crew | None = None, **extra) -> WorkOrder:
    """Put ``order`` in ``status`` directly (test setup), keeping the model's invariants."""
    now = timezone.now()
    fields: dict = {"status": status, **extra}
    if status in WorkOrder.CREW_REQUIRED:
        fields.setdefault("crew", crew)
        fields.setdefault("dispatched_at", now - timedelta(minutes=10))
    if status in WorkOrder.WAITING_FOR_CREW:
        fields["crew"] = None
    if status in WorkOrder.ARRIVED:
        fields.setdefault("arrived_at", now - timedelta(minutes=5))
    if status in WorkOrder.DONE:
        fields.setdefault("completed_at", now - timedelta(minutes=1))
    if status == WorkOrder.Status.MERGED and "merged_into" not in fields:
        fields["merged_into"] = make_order()
    if status == WorkOrder.Status.PUBLISHED:
        fields.setdefault("published_at", now)
        fields.setdefault("pool_expires_at", now + timedelta(minutes=5))
    WorkOrder.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order
