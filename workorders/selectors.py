"""Reads of the work-orders app. Each returns rows with their relations already loaded.

The dispatch inputs (``crew_states_for_dispatch``, ``work_order_dispatch_request``) turn rows
into the plain dataclasses of ``workorders.dispatching``; the console reads (list, detail,
suggestions, crew board) and the crew app's reads (my orders, the grab pool) live here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from grids.models import Crew, CrewMember
from outages.models import Priority
from workorders import dispatching
from workorders.models import (
    CrewPoolStats,
    DispatchDecision,
    DispatchRefusal,
    PoolPolicy,
    WorkOrder,
    WorkOrderEvent,
)

_LIST_RELATED = (
    "grid",
    "district",
    "crew",
    "outage__type",
    "skill_needed",
    "service_point",
)


# --- console: list, detail ------------------------------------------------------------------


def work_order_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[WorkOrder]:
    """Work orders for the console, most pressing first (priority, then arrival deadline,
    then age), filtered by any of: ``status`` (list), ``kind`` (list), ``open`` (bool),
    ``grid`` / ``district`` / ``crew`` / ``outage`` (ids), ``sla_state`` (list), ``urgent``
    (bool), ``q`` (an id, or a fragment of the title or address), ``created_since``."""
    filters = filters or {}
    qs = WorkOrder.objects.select_related(*_LIST_RELATED)
    if statuses := filters.get("status"):
        qs = qs.filter(status__in=list(statuses))
    if kinds := filters.get("kind"):
        qs = qs.filter(kind__in=list(kinds))
    if (is_open := filters.get("open")) is not None:
        qs = (
            qs.filter(status__in=WorkOrder.OPEN)
            if is_open
            else qs.exclude(status__in=WorkOrder.OPEN)
        )
    for key in ("grid", "district", "crew", "outage"):
        if value := filters.get(key):
            qs = qs.filter(**{f"{key}_id": value})
    if states := filters.get("sla_state"):
        qs = qs.filter(sla_state__in=list(states))
    if (urgent := filters.get("urgent")) is not None:
        urgent_q = Q(kind=WorkOrder.Kind.DANGER) | Q(priority=Priority.URGENT)
        qs = qs.filter(urgent_q) if urgent else qs.exclude(urgent_q)
    if text := (filters.get("q") or "").strip():
        text_q = Q(title__icontains=text) | Q(address__icontains=text)
        if text.lstrip("#").isdigit():
            text_q |= Q(pk=int(text.lstrip("#")))
        qs = qs.filter(text_q)
    if since := filters.get("created_since"):
        qs = qs.filter(created_at__gte=since)
    return qs.order_by("priority", F("arrive_due_at").asc(nulls_last=True), "created_at", "pk")


def work_order_get(*, order_id: int) -> WorkOrder:
    """One work order, for a write; ``NotFound``."""
    order = WorkOrder.objects.select_related("outage", "crew", "grid").filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("工单 %(id)s 不存在。") % {"id": order_id})
    return order


def work_order_get_detail(*, order_id: int) -> WorkOrder:
    """One work order with its timeline, decisions, refusals, photos, return visits, reports
    and merged orders; ``NotFound``."""
    order = (
        WorkOrder.objects.select_related(
            *_LIST_RELATED,
            "outage__cause",
            "cause",
            "merged_into",
            "reopened_from",
            "source_report",
        )
        .prefetch_related(
            Prefetch(
                "events",
                queryset=WorkOrderEvent.objects.select_related("crew").order_by("at", "pk"),
            ),
            Prefetch(
                "decisions",
                queryset=DispatchDecision.objects.select_related("crew", "actor").order_by(
                    "-at", "-pk"
                ),
            ),
            Prefetch(
                "refusals", queryset=DispatchRefusal.objects.select_related("crew").order_by("at")
            ),
            "photos",
            "return_visits",
            "reports",
            Prefetch(
                "merged_orders", queryset=WorkOrder.objects.only("pk", "status", "merged_into")
            ),
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound(_("工单 %(id)s 不存在。") % {"id": order_id})
    return order


def _label(code: str) -> str:
    return _(dispatching.REASON_LABELS.get(code, code))


def decision_explain(decision: DispatchDecision) -> dict[str, Any]:
    """A decision in words for the console: the chosen crew, each candidate's cost and its
    components with labels, the crews filtered out with labelled reasons."""
    candidates = []
    for c in decision.candidates or []:
        components = c.get("components", {})
        candidates.append(
            {
                **c,
                "chosen": c.get("crew_id") == decision.crew_id,
                "explanation": [
                    {"code": k, "label": _label(k), "minutes": v} for k, v in components.items()
                ],
            }
        )
    filtered = decision.filtered_out
    if isinstance(filtered, list):
        filtered = [
            {**f, "reason_labels": [_label(r) for r in f.get("reasons", [])]} for f in filtered
        ]
    counts = (decision.data or {}).get("filtered_counts", {})
    return {
        "id": decision.pk,
        "mode": decision.mode,
        "mode_display": decision.get_mode_display(),
        "crew_id": decision.crew_id,
        "crew": decision.crew.name if decision.crew else None,
        "outcome": decision.outcome,
        "outcome_label": _label(decision.outcome) if decision.outcome else "",
        "at": decision.at,
        "actor": decision.actor.get_username() if decision.actor else "",
        "candidates": candidates,
        "filtered_out": filtered,
        "filtered_counts": [{"code": k, "label": _label(k), "crews": v} for k, v in counts.items()],
        "data": decision.data,
    }


def work_order_counts_by_status() -> dict[str, int]:
    """Open orders per status, plus SLA warnings and breaches (the console's header)."""
    counts = dict(
        WorkOrder.objects.filter(status__in=WorkOrder.OPEN)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    sla = dict(
        WorkOrder.objects.filter(status__in=WorkOrder.OPEN)
        .exclude(sla_state=WorkOrder.SlaState.OK)
        .values_list("sla_state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        **{s: counts.get(s, 0) for s in sorted(WorkOrder.OPEN)},
        "sla_warning": sla.get(WorkOrder.SlaState.WARNING, 0),
        "sla_breached": sla.get(WorkOrder.SlaState.BREACHED, 0),
    }


# --- dispatch inputs -------------------------------------------------------------------------


def crew_states_for_dispatch(*, crew_ids: list[int] | None = None) -> list[dispatching.CrewState]:
    """Every crew (or ``crew_ids``) as the dispatch module sees it: duty, last position, grid
    and area class of its station, skills, capacity and open orders. Three queries."""
    crews = Crew.objects.order_by("pk")
    if crew_ids is not None:
        crews = crews.filter(pk__in=crew_ids)
    rows = list(
        crews.values_list(
            "pk",
            "last_lat",
            "last_lng",
            "station__grid_id",
            "station__grid__area_class",
            "on_duty",
            "capacity",
        )
    )
    ids = [r[0] for r in rows]
    through = Crew.skills.through
    skills: dict[int, set[str]] = {}
    skill_rows = (
        through.objects.filter(crew_id__in=ids) if crew_ids is not None else through.objects
    )
    for crew_id, code in skill_rows.values_list("crew_id", "skill__code"):
        skills.setdefault(crew_id, set()).add(code)
    open_counts = dict(
        WorkOrder.objects.filter(status__in=WorkOrder.WITH_CREW, crew_id__isnull=False)
        .filter(**({"crew_id__in": ids} if crew_ids is not None else {}))
        .values_list("crew_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        dispatching.CrewState(
            id=pk,
            lat=lat,
            lng=lng,
            grid_id=grid_id,
            on_duty=on_duty,
            skills=frozenset(skills.get(pk, ())),
            capacity=capacity,
            open_orders=open_counts.get(pk, 0),
            area_class=area_class,
        )
        for pk, lat, lng, grid_id, area_class, on_duty, capacity in rows
    ]


def work_order_dispatch_request(order: WorkOrder) -> dispatching.OrderRequest | None:
    """``order`` as the dispatch module sees it; None when it has no location at all (its
    own coordinates, else its grid's centre)."""
    lat, lng = order.lat, order.lng
    if lat is None or lng is None:
        grid = order.grid
        if grid is None or grid.center_lat is None or grid.center_lng is None:
            return None
        lat, lng = grid.center_lat, grid.center_lng
    return dispatching.OrderRequest(
        id=order.pk,
        lat=lat,
        lng=lng,
        grid_id=order.grid_id,
        area_class=order.area_class,
        skill_needed=order.skill_needed.code if order.skill_needed is not None else None,
        urgent=order.is_urgent,
        sla_deadline_at=order.arrive_due_at,
        created_at=order.waiting_since or order.created_at,
    )


def work_order_refusals(order_id: int) -> tuple[set[int], set[int]]:
    """Crews not to offer the order to again: (rejected-like, timed out)."""
    rejected: set[int] = set()
    timed_out: set[int] = set()
    for crew_id, reason in DispatchRefusal.objects.filter(order_id=order_id).values_list(
        "crew_id", "reason"
    ):
        (timed_out if reason == DispatchRefusal.Reason.TIMED_OUT else rejected).add(crew_id)
    return rejected, timed_out


@dataclass(frozen=True)
class Suggestion:
    """A ranked crew for the console's dispatch dialog."""

    crew: Crew
    candidate: dispatching.Candidate


def work_order_suggestions(
    *, order: WorkOrder, now: datetime | None = None, limit: int = 10
) -> dict[str, Any]:
    """The live ranking of crews for ``order`` (what auto-dispatch would do now), best first,
    with the score components labelled, and the crews filtered out with their reasons (the
    nearest ``limit`` * 3). Crews that refused the order are filtered as such."""
    now = now or timezone.now()
    request = work_order_dispatch_request(order)
    if request is None:
        return {"candidates": [], "filtered_out": [], "outcome": "no_location"}
    states = crew_states_for_dispatch()
    rejected, timed_out = work_order_refusals(order.pk)
    ranking = dispatching.pick_next_crew(
        request, states, rejected_by=rejected, timed_out=timed_out, now=now
    )
    by_id = {s.id: s for s in states}
    filtered = sorted(
        ranking.filtered,
        key=lambda f: _distance(request, by_id[f.crew_id]),
    )[: limit * 3]
    wanted = [c.crew_id for c in ranking.candidates[:limit]] + [f.crew_id for f in filtered]
    crews = Crew.objects.select_related("station").in_bulk(wanted)
    return {
        "candidates": [
            {
                **c.as_dict(),
                "crew": _crew_brief(crews[c.crew_id]),
                "open_orders": by_id[c.crew_id].open_orders,
                "capacity": by_id[c.crew_id].capacity,
                "explanation": [
                    {"code": k, "label": _label(k), "minutes": round(v, 2)}
                    for k, v in c.components.items()
                ],
            }
            for c in ranking.candidates[:limit]
        ],
        "filtered_out": [
            {
                "crew_id": f.crew_id,
                "crew": _crew_brief(crews[f.crew_id]),
                "reasons": list(f.reasons),
                "reason_labels": [_label(r) for r in f.reasons],
                "distance_km": _round(_distance(request, by_id[f.crew_id])),
            }
            for f in filtered
        ],
        "outcome": "" if ranking.candidates else dispatching.NO_ELIGIBLE_CREW,
    }


def _distance(order: dispatching.OrderRequest, crew: dispatching.CrewState) -> float:
    if crew.lat is None or crew.lng is None:
        return math.inf
    return float(dispatching.haversine_km(order.lat, order.lng, crew.lat, crew.lng))


def _round(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 3)


def _crew_brief(crew: Crew) -> dict[str, Any]:
    return {
        "id": crew.pk,
        "code": crew.code,
        "name": crew.name,
        "status": crew.status,
        "on_duty": crew.on_duty,
        "station": crew.station.name,
        "lat": crew.last_lat,
        "lng": crew.last_lng,
    }


def crew_board() -> QuerySet[Crew]:
    """Crews for the console map: station, grid, pool stats and open-order count."""
    return (
        Crew.objects.select_related("station__grid", "pool_stats")
        .annotate(
            open_orders=Count("work_orders", filter=Q(work_orders__status__in=WorkOrder.WITH_CREW))
        )
        .order_by("code")
    )


# --- the crew app ------------------------------------------------------------------------------


def crew_for_user(user: AbstractBaseUser | AnonymousUser) -> Crew | None:
    """The crew of a logged-in crew member, or None."""
    if not user.is_authenticated:
        return None
    member = CrewMember.objects.select_related("crew").filter(user_id=user.pk).first()
    return member.crew if member else None


def crew_orders(*, crew: Crew, open_only: bool = True) -> QuerySet[WorkOrder]:
    """The orders of ``crew`` (open ones by default), the most pressing first."""
    qs = WorkOrder.objects.filter(crew=crew).select_related(*_LIST_RELATED)
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
        .select_related(*_LIST_RELATED)
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


# --- SLA -------------------------------------------------------------------------------------


def _arrival_end() -> Q:
    # The arrival clock stopped in time: arrived before the deadline.
    return Q(arrived_at__isnull=False, arrived_at__lt=F("arrive_due_at"))


def _restoration_end() -> Q:
    # The restoration clock stopped in time: restored (or completed) before the deadline.
    return Q(restored_at__isnull=False, restored_at__lt=F("restore_due_at")) | Q(
        restored_at__isnull=True,
        completed_at__isnull=False,
        completed_at__lt=F("restore_due_at"),
    )


def sla_due_filter(now: datetime) -> Q:
    """Orders with a mark due at ``now`` (the beat sweeper's query; uses the deadline indexes)."""
    arrive_breach = Q(arrive_breached_at__isnull=True, arrive_due_at__lte=now) & ~_arrival_end()
    arrive_warn = Q(
        arrive_warned_at__isnull=True,
        arrive_breached_at__isnull=True,
        arrived_at__isnull=True,
        arrive_warn_at__lte=now,
    )
    restore_breach = (
        Q(restore_breached_at__isnull=True, restore_due_at__lte=now) & ~_restoration_end()
    )
    restore_warn = Q(
        restore_warned_at__isnull=True,
        restore_breached_at__isnull=True,
        restored_at__isnull=True,
        completed_at__isnull=True,
        restore_warn_at__lte=now,
    )
    return Q(status__in=WorkOrder.OPEN) & (
        arrive_breach | arrive_warn | restore_breach | restore_warn
    )


# --- sweepers ------------------------------------------------------------------------------------


def work_order_ids_stuck(*, now: datetime | None = None, stale: timedelta) -> list[int]:
    """Orders still waiting for a dispatch decision long after one was last asked for (or
    never asked for): their message was lost, or no crew was free last time."""
    now = now or timezone.now()
    cutoff = now - stale
    return list(
        WorkOrder.objects.filter(status__in=WorkOrder.NEEDS_DISPATCH)
        .filter(
            Q(dispatch_requested_at__lte=cutoff)
            | Q(dispatch_requested_at__isnull=True, updated_at__lte=cutoff)
        )
        .order_by("priority", "pk")
        .values_list("pk", flat=True)[:5000]
    )


def work_order_ids_offer_expired(*, now: datetime | None = None) -> list[int]:
    """Orders offered to a crew that has not accepted within the accept timeout."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(status__in=WorkOrder.AWAITING_ACCEPT, offer_expires_at__lte=now)
        .order_by("offer_expires_at", "pk")
        .values_list("pk", flat=True)
    )


def work_order_ids_pool_expired(*, now: datetime | None = None) -> list[int]:
    """Published orders nobody claimed within their time to live."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(status=WorkOrder.Status.PUBLISHED, pool_expires_at__lte=now)
        .order_by("pool_expires_at", "pk")
        .values_list("pk", flat=True)
    )


def work_order_ids_sla_due(*, now: datetime | None = None) -> list[int]:
    """Orders with an SLA warning or breach due and not yet marked."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(sla_due_filter(now)).order_by("pk").values_list("pk", flat=True)
    )


def work_orders_waiting_count() -> int:
    """How many orders wait for a dispatch decision (storm mode above the threshold)."""
    return WorkOrder.objects.filter(status__in=WorkOrder.NEEDS_DISPATCH).count()


# --- Reads for the complaints app (complaint links, trace facts, SLA breaches) ------------


def complaint_work_order_ids(
    *, service_point_id: int | None, outage_ids: list[int], since: datetime
) -> list[int]:
    """Ids of work orders on ``service_point_id`` or on one of ``outage_ids`` created since
    ``since`` (merged orders left out: their work went on in the order they merged into)."""
    cond = Q(outage_id__in=outage_ids) if outage_ids else Q(pk__in=[])
    if service_point_id is not None:
        cond |= Q(service_point_id=service_point_id)
    return list(
        WorkOrder.objects.filter(cond, created_at__gte=since)
        .exclude(status=WorkOrder.Status.MERGED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def complaint_work_order_trace_facts(*, order_ids: list[int]) -> list[dict[str, Any]]:
    """Per order: its clock columns, how often it was sent back, when it was first offered
    to a crew (from the timeline)."""
    from django.db.models import Min

    rejections = dict(
        WorkOrderEvent.objects.filter(order_id__in=order_ids, to_status=WorkOrder.Status.REJECTED)
        .values_list("order_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    first = dict(
        WorkOrderEvent.objects.filter(
            order_id__in=order_ids,
            to_status__in=[WorkOrder.Status.DISPATCHED, WorkOrder.Status.CLAIMED],
        )
        .values_list("order_id")
        .annotate(at=Min("at"))
        .order_by()
    )
    rows = []
    for o in WorkOrder.objects.filter(pk__in=order_ids).order_by("pk"):
        rows.append(
            {
                "order_id": o.pk,
                "created_at": o.created_at,
                "dispatched_at": o.dispatched_at,
                "arrived_at": o.arrived_at,
                "arrive_due_at": o.arrive_due_at,
                "restored_at": o.restored_at or o.completed_at,
                "restore_due_at": o.restore_due_at,
                "rejections": rejections.get(o.pk, 0),
                "first_dispatched_at": first.get(o.pk),
            }
        )
    return rows


def complaint_breached_order_ids(*, order_ids: list[int]) -> list[int]:
    """Those of ``order_ids`` that missed an arrival or restoration deadline."""
    return list(
        WorkOrder.objects.filter(pk__in=order_ids)
        .filter(Q(arrive_breached_at__isnull=False) | Q(restore_breached_at__isnull=False))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def complaint_sla_breach_counts(*, since: datetime) -> dict[int, int]:
    """Per service point: orders created since ``since`` that missed a deadline, counting an
    outage's order for every customer the outage interrupted."""
    from outages.models import Interruption

    breached = WorkOrder.objects.filter(created_at__gte=since).filter(
        Q(arrive_breached_at__isnull=False) | Q(restore_breached_at__isnull=False)
    )
    counts: dict[int, int] = dict(
        breached.filter(service_point_id__isnull=False)
        .values_list("service_point_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    outage_ids = list(breached.filter(outage_id__isnull=False).values_list("outage_id", flat=True))
    if outage_ids:
        for sp_id, n in (
            Interruption.objects.filter(outage_id__in=outage_ids)
            .values_list("service_point_id")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            counts[sp_id] = counts.get(sp_id, 0) + n
    return counts


def complaint_report_ids_with_orders(*, report_ids: list[int]) -> list[int]:
    """Those of ``report_ids`` that some work order took up (as its source or linked)."""
    linked = WorkOrder.objects.filter(
        Q(source_report_id__in=report_ids) | Q(reports__in=report_ids)
    ).values_list("source_report_id", "reports")
    found = {x for pair in linked for x in pair if x is not None}
    return sorted(found & set(report_ids))
