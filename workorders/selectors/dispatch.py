"""Reads for dispatch: the crews and an order as the pure ``workorders.dispatching`` engine
sees them, the refusals, the console's ranked suggestions and its crew board."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from grids.models import Crew
from workorders import dispatching
from workorders.models import (
    DispatchRefusal,
    WorkOrder,
)

from .orders import reason_label

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


# What ``work_order_dispatch_requests`` reads of each order.
_REQUEST_FIELDS = (
    "pk",
    "lat",
    "lng",
    "grid_id",
    "grid__center_lat",
    "grid__center_lng",
    "area_class",
    "skill_needed__code",
    "kind",
    "priority",
    "arrive_due_at",
    "waiting_since",
    "created_at",
)


def work_order_dispatch_requests(
    orders: QuerySet[WorkOrder], *, extra: tuple[str, ...] = ()
) -> list[tuple[dict[str, Any], dispatching.OrderRequest | None]]:
    """Each order of ``orders`` as the dispatch module sees it (as
    ``work_order_dispatch_request``, None without a location), read as plain values in one
    query, with its row (those fields and ``extra``, such as ``version`` and ``crew_id``)."""
    out: list[tuple[dict[str, Any], dispatching.OrderRequest | None]] = []
    for row in orders.values(*_REQUEST_FIELDS, *extra):
        lat, lng = row["lat"], row["lng"]
        if lat is None or lng is None:
            lat, lng = row["grid__center_lat"], row["grid__center_lng"]
        request = None
        if lat is not None and lng is not None:
            request = dispatching.OrderRequest(
                id=row["pk"],
                lat=lat,
                lng=lng,
                grid_id=row["grid_id"],
                area_class=row["area_class"],
                skill_needed=row["skill_needed__code"],
                urgent=WorkOrder.urgent_for(row["kind"], row["priority"]),
                sla_deadline_at=row["arrive_due_at"],
                created_at=row["waiting_since"] or row["created_at"],
            )
        out.append((row, request))
    return out


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
                    {"code": k, "label": reason_label(k), "minutes": round(v, 2)}
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
                "reason_labels": [reason_label(r) for r in f.reasons],
                "distance_km": _round(_distance(request, by_id[f.crew_id])),
            }
            for f in filtered
        ],
        "outcome": "" if ranking.candidates else dispatching.NO_ELIGIBLE_CREW,
    }


def work_order_on_duty_crews(
    *, order: WorkOrder, now: datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Every on-duty crew the dispatcher may pick by hand for ``order`` (nearest first, else
    its own grid's first), each with ``eligible`` and, when the filters exclude it, the
    reasons as codes and in words. An order without a position is not ranked, but the
    filters that do not need one (skill, capacity, refusals) still apply."""
    now = now or timezone.now()
    request = work_order_dispatch_request(order)
    states = [s for s in crew_states_for_dispatch() if s.on_duty]
    rejected, timed_out = work_order_refusals(order.pk)
    reasons: dict[int, tuple[str, ...]] = {}
    if request is not None:
        ranking = dispatching.pick_next_crew(
            request, states, rejected_by=rejected, timed_out=timed_out, now=now
        )
        reasons = {f.crew_id: f.reasons for f in ranking.filtered}
    else:
        skill = order.skill_needed.code if order.skill_needed is not None else None
        for s in states:
            found = [
                code
                for code, applies in (
                    (dispatching.MISSING_SKILL, bool(skill) and skill not in s.skills),
                    (dispatching.NO_CAPACITY, s.spare <= 0),
                    (dispatching.REJECTED, s.id in rejected),
                    (dispatching.TIMED_OUT, s.id in timed_out),
                )
                if applies
            ]
            if found:
                reasons[s.id] = tuple(found)

    def key(s: dispatching.CrewState) -> tuple[float, bool, int]:
        far = _distance(request, s) if request is not None else 0.0
        return (far, s.grid_id != order.grid_id, s.id)

    chosen = sorted(states, key=key)[:limit]
    crews = Crew.objects.select_related("station").in_bulk([s.id for s in chosen])
    return [
        {
            "crew_id": s.id,
            "crew": _crew_brief(crews[s.id]),
            "eligible": s.id not in reasons,
            "reasons": list(reasons.get(s.id, ())),
            "reason_labels": [reason_label(r) for r in reasons.get(s.id, ())],
            "distance_km": _round(_distance(request, s)) if request is not None else None,
            "open_orders": s.open_orders,
            "capacity": s.capacity,
        }
        for s in chosen
    ]


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
