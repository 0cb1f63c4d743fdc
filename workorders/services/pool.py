"""The grab pool (抢单): non-urgent orders offered to the crews around them.

Publishing records the crews within the radius (the *audience*). Claiming is one conditional
update (``filter(pk=…, status=published).update(status=claimed, crew=…)``): exactly one crew
wins, every other one gets ``Conflict`` ``already_taken`` (HTTP 409) and a lost race in its
statistics. An order nobody claims within its time to live goes back to dispatch (beat), and
each crew of its audience gets a *skip*: a crew that skips much more than it claims is
cherry-picking. Claiming a stale order earns bonus points (``dispatching.grab_bonus_points``).
Urgent and danger orders are never pooled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, NotFound, TransitionNotAllowed
from grids.models import Crew
from workorders import dispatching, selectors
from workorders.models import CrewPoolStats, DispatchDecision, WorkOrder, WorkOrderEvent

from . import common
from .lifecycle import work_order_transition

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
DEFAULT_MAX_CLAIMED = 2


def _stats_bump(crew_ids: Iterable[int], **increments: int) -> None:
    """Add to the pool counters of ``crew_ids`` (rows created on first use)."""
    ids = sorted(set(crew_ids))
    if not ids:
        return
    existing = set(CrewPoolStats.objects.filter(crew_id__in=ids).values_list("crew_id", flat=True))
    CrewPoolStats.objects.bulk_create(
        [CrewPoolStats(crew_id=pk) for pk in ids if pk not in existing], ignore_conflicts=True
    )
    CrewPoolStats.objects.filter(crew_id__in=ids).update(
        **{name: F(name) + value for name, value in increments.items()}
    )


@transaction.atomic
def work_order_publish(
    *,
    order: WorkOrder,
    actor: User | None,
    actor_label: str = "",
    ttl_seconds: int | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Offer a waiting order to the crews within the pool radius for ``ttl_seconds``
    (default: the pool policy's, else ``WORKORDERS_POOL_TTL_SECONDS``).

    Refused (``Conflict``) for urgent or danger orders, where the policy disables the pool,
    and when no eligible crew is within the radius (nobody would see it). A stale
    ``expected_version`` fails the compare-and-set (``work_order_transition``)."""
    if order.is_urgent:
        raise Conflict(_("紧急和危险处置工单不能进入抢单池。"), code="urgent_not_poolable")
    if order.status not in WorkOrder.NEEDS_DISPATCH:
        raise TransitionNotAllowed(order.status, Status.PUBLISHED)
    policy = selectors.pool_policy_for(order)
    if policy is not None and not policy.enabled:
        raise Conflict(_("该网格或工单类型不允许抢单。"), code="pool_disabled")
    request = selectors.work_order_dispatch_request(order)
    if request is None:
        raise DomainError(_("工单没有位置，不能发布到抢单池。"), code="no_location")
    ttl = ttl_seconds or (policy.ttl_seconds if policy else common.conf().pool_ttl_seconds)
    radius = policy.radius_km if policy is not None and policy.radius_km else None
    audience = dispatching.crews_within_radius(
        request, selectors.crew_states_for_dispatch(), radius_km=radius
    )
    if not audience:
        raise Conflict(_("抢单范围内没有可接单的班组。"), code="no_crews_in_radius")
    now = timezone.now()
    return work_order_transition(
        order=order,
        to=Status.PUBLISHED,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        extra={
            "published_at": now,
            "pool_expires_at": now + timedelta(seconds=ttl),
            "pool_audience": [crew_id for crew_id, _km in audience],
        },
        data={"ttl_seconds": ttl, "audience": len(audience), "radius_km": radius},
        expected_version=expected_version,
    )


def work_order_claim(*, order_id: int, crew: Crew, actor: User | None) -> WorkOrder:
    """Crew ``crew`` claims published order ``order_id``; exactly one concurrent claim wins.

    ``Conflict`` codes: ``already_taken`` (another crew won: counted as a lost race),
    ``not_in_pool``, ``pool_expired``, ``crew_off_duty``, ``missing_skill``, ``out_of_range``,
    ``crew_full`` (capacity), ``claim_limit`` (the policy's claimed orders per crew).
    """
    try:
        return _claim(order_id=order_id, crew=crew, actor=actor)
    except Conflict as exc:
        if exc.code == "already_taken":
            with transaction.atomic():
                _stats_bump([crew.pk], lost_races=1)
        raise


def _taken() -> Conflict:
    return Conflict(_("该工单已被其他班组抢走。"), code="already_taken")


@transaction.atomic
def _claim(*, order_id: int, crew: Crew, actor: User | None) -> WorkOrder:
    order = WorkOrder.objects.select_related("grid", "skill_needed").filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("工单 %(id)s 不存在。") % {"id": order_id})
    if order.status != Status.PUBLISHED:
        if order.crew_id is not None or order.status in WorkOrder.TERMINAL:
            raise _taken()
        raise Conflict(_("该工单不在抢单池中。"), code="not_in_pool")
    now = timezone.now()
    if order.pool_expires_at is not None and order.pool_expires_at <= now:
        raise Conflict(_("抢单已超时，工单将转为派单。"), code="pool_expired")
    locked = common.lock_crews([crew.pk])[crew.pk]
    if not locked.on_duty:
        raise Conflict(_("班组不在班，不能抢单。"), code="crew_off_duty")
    if order.skill_needed_id and not locked.skills.filter(pk=order.skill_needed_id).exists():
        raise Conflict(_("班组缺少该工单所需技能。"), code="missing_skill")
    # Range from the order as loaded: another crew may win meanwhile, and the loser must
    # hear "already taken", not "out of range".
    entry = selectors.pool_entry_for_crew(order=order, crew=locked, now=now)
    if entry is None:
        raise Conflict(_("班组不在该工单的抢单范围内。"), code="out_of_range")
    if common.crew_open_counts([locked.pk]).get(locked.pk, 0) >= locked.capacity:
        raise Conflict(_("班组在手工单已满。"), code="crew_full")
    policy = selectors.pool_policy_for(order)
    limit = policy.max_claimed_per_crew if policy is not None else DEFAULT_MAX_CLAIMED
    held = WorkOrder.objects.filter(
        crew_id=locked.pk, status__in=WorkOrder.WITH_CREW, claimed_at__isnull=False
    ).count()
    if held >= limit:
        raise Conflict(_("班组最多同时持有 %(n)s 张抢单工单。") % {"n": limit}, code="claim_limit")
    common.lock_outages([order.outage_id] if common.moves_outage(order) else [])
    bonus = entry.bonus_points
    # The race is decided here, by the database: one conditional update, one winner.
    rows = WorkOrder.objects.filter(pk=order.pk, status=Status.PUBLISHED).update(
        status=Status.CLAIMED,
        crew=locked,
        claimed_at=now,
        dispatched_at=now,
        offer_expires_at=now + common.conf().accept_timeout,
        pool_expires_at=None,
        claim_bonus_points=bonus,
        version=F("version") + 1,
        updated_at=now,
    )
    if rows != 1:
        raise _taken()
    order.refresh_from_db()
    candidate = {
        "crew_id": locked.pk,
        "crew_code": locked.code,
        "crew_name": locked.name,
        "distance_km": round(entry.distance_km, 3),
        "bonus_points": bonus,
    }
    decision = DispatchDecision.objects.create(
        order=order,
        crew=locked,
        mode=DispatchDecision.Mode.POOL,
        candidates=[candidate],
        data={"bonus_points": bonus, "audience": len(order.pool_audience or [])},
        actor=actor,
        at=now,
    )
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.STATUS_CHANGED,
        at=now,
        actor=actor,
        from_status=Status.PUBLISHED,
        to_status=Status.CLAIMED,
        crew_id=locked.pk,
        data={"mode": "pool", "bonus_points": bonus, "decision_id": decision.pk},
    )
    _stats_bump([locked.pk], claims=1, bonus_points=bonus)
    CrewPoolStats.objects.filter(crew_id=locked.pk).update(last_claim_at=now)
    common.outage_crew_dispatched(order, actor=actor, label=common.label_for(actor))
    common.crew_refresh_status([locked.pk])
    return order


@transaction.atomic
def work_order_pool_expire(*, order_id: int, now: datetime | None = None) -> WorkOrder | None:
    """A published order nobody claimed within its time to live goes back to dispatch (it is
    not published again automatically); its audience's skip counts grow by one."""
    now = now or timezone.now()
    order = WorkOrder.objects.filter(pk=order_id).first()
    if (
        order is None
        or order.status != Status.PUBLISHED
        or order.pool_expires_at is None
        or order.pool_expires_at > now
    ):
        return None
    audience = list(order.pool_audience or [])
    work_order_transition(
        order=order,
        to=Status.CREATED,
        actor=None,
        actor_label="beat",
        reason=_("抢单超时无人接单，转为派单"),
        data={"audience": len(audience)},
    )
    _stats_bump(audience, skips=1)
    return order
