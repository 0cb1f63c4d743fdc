"""Reads of the crews' app: the crew of a user, its orders, the grab pool around it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from grids.models import Crew, CrewMember
from workorders import dispatching
from workorders.models import (
    CrewPoolStats,
    PoolPolicy,
    WorkOrder,
)

from .orders import LIST_RELATED

# --- the crew app ------------------------------------------------------------------------------


def crew_for_user(user: AbstractBaseUser | AnonymousUser) -> Crew | None:
    """The crew of a logged-in crew member, or None."""
    if not user.is_authenticated:
        return None
    member = CrewMember.objects.select_related("crew").filter(user_id=user.pk).first()
    return member.crew if member else None


def crew_orders(*, crew: Crew, open_only: bool = True) -> QuerySet[WorkOrder]:
    """The orders of ``crew`` (open ones by default), the most pressing first."""
    qs = WorkOrder.objects.filter(crew=crew).select_related(*LIST_RELATED)
    if open_only:
        qs = qs.filter(status__in=WorkOrder.OPEN)
    return qs.order_by("priority", F("arrive_due_at").asc(nulls_last=True), "created_at", "pk")


def pool_policy_for(order: WorkOrder) -> PoolPolicy | None:
    """The most specific pool policy for the order's grid and kind (grid and kind, grid,
    kind, default), or None when none exists."""
    rows = list(
        PoolPolicy.objects.filter(
            Q(grid_id=order.grid_id) | Q(grid__isnull=True), kind__in=[order.kind, ""]
        )
    )
    if not rows:
        return None
    rows.sort(key=lambda p: (p.grid_id is None, p.kind == ""))
    return rows[0]


@dataclass(frozen=True)
class PoolEntry:
    """A published order as one crew sees it in the pool."""

    order: WorkOrder
    distance_km: float
    bonus_points: int


def pool_orders_for_crew(*, crew: Crew, now: datetime | None = None) -> list[PoolEntry]:
    """Published, unexpired orders within the pool radius of ``crew``'s last position that it
    could take (skill), most bonus points first, then nearest. Empty without a position."""
    now = now or timezone.now()
    if crew.last_lat is None or crew.last_lng is None:
        return []
    orders = list(
        WorkOrder.objects.filter(status=WorkOrder.Status.PUBLISHED, pool_expires_at__gt=now)
        .select_related(*LIST_RELATED)
        .order_by("pk")
    )
    if not orders:
        return []
    skills = set(crew.skills.values_list("code", flat=True))
    policies = list(PoolPolicy.objects.all())
    entries = [
        entry
        for order in orders
        if (entry := _pool_entry(order, crew, skills, policies, now)) is not None
    ]
    entries.sort(key=lambda e: (-e.bonus_points, e.distance_km, e.order.pk))
    return entries


def pool_entry_for_crew(*, order: WorkOrder, crew: Crew, now: datetime) -> PoolEntry | None:
    """``order`` as ``crew`` would see it in the pool (distance, bonus), or None when it is
    out of the crew's reach (radius, skill, no position), whatever the order's status."""
    if crew.last_lat is None or crew.last_lng is None:
        return None
    skills = set(crew.skills.values_list("code", flat=True))
    return _pool_entry(order, crew, skills, list(PoolPolicy.objects.all()), now)


def _pool_entry(
    order: WorkOrder, crew: Crew, skills: set[str], policies: list[PoolPolicy], now: datetime
) -> PoolEntry | None:
    if order.skill_needed is not None and order.skill_needed.code not in skills:
        return None
    if order.lat is None or order.lng is None or crew.last_lat is None or crew.last_lng is None:
        return None
    distance = float(dispatching.haversine_km(order.lat, order.lng, crew.last_lat, crew.last_lng))
    if distance > _radius(order, policies) and crew.pk not in (order.pool_audience or []):
        return None
    bonus = dispatching.grab_bonus_points(
        waiting_since=order.waiting_since or order.created_at, now=now
    )
    return PoolEntry(order, distance, bonus)


def _radius(order: WorkOrder, policies: list[PoolPolicy]) -> float:
    matching = [
        p for p in policies if p.grid_id in (order.grid_id, None) and p.kind in (order.kind, "")
    ]
    matching.sort(key=lambda p: (p.grid_id is None, p.kind == ""))
    if matching and matching[0].radius_km:
        return matching[0].radius_km
    return dispatching.DEFAULT_POLICY.grab_radius_km[order.area_class]


def crew_pool_stats(*, crew: Crew) -> CrewPoolStats:
    """The crew's pool counters (zeros when it never used the pool)."""
    return CrewPoolStats.objects.filter(crew=crew).first() or CrewPoolStats(crew=crew)
