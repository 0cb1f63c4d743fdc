"""Reads of work orders for the console and the APIs: the filtered list, one order for a
write, the detail with its timeline and decisions explained, the header counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from dispatch_center.core.exceptions import NotFound
from outages.models import Priority
from workorders import dispatching
from workorders.labels import console_label
from workorders.models import (
    DispatchDecision,
    DispatchRefusal,
    WorkOrder,
    WorkOrderEvent,
)

LIST_RELATED = (
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
    qs = WorkOrder.objects.select_related(*LIST_RELATED)
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
            *LIST_RELATED,
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


# Timeline actors that are not people, in words (the row keeps the machine label).
ACTOR_LABELS = {
    "dispatch": gettext_noop("自动派单"),
    "beat": gettext_noop("定时任务"),
    "system": gettext_noop("系统"),
}


def actor_label(label: str) -> str:
    """A timeline row's actor as the console shows it: a username as it is, a machine
    label (``dispatch``, ``beat``, ``system``) in words."""
    return console_label(_(ACTOR_LABELS[label])) if label in ACTOR_LABELS else label


def reason_label(code: str) -> str:
    """A dispatch reason or score component code in words (an unknown code as it is)."""
    if code not in dispatching.REASON_LABELS:
        return code
    return console_label(_(dispatching.REASON_LABELS[code]))


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
                    {"code": k, "label": reason_label(k), "minutes": v}
                    for k, v in components.items()
                ],
            }
        )
    filtered = decision.filtered_out
    if isinstance(filtered, list):
        filtered = [
            {**f, "reason_labels": [reason_label(r) for r in f.get("reasons", [])]}
            for f in filtered
        ]
    counts = (decision.data or {}).get("filtered_counts", {})
    return {
        "id": decision.pk,
        "mode": decision.mode,
        "mode_display": decision.get_mode_display(),
        "crew_id": decision.crew_id,
        "crew": decision.crew.name if decision.crew else None,
        "outcome": decision.outcome,
        "outcome_label": reason_label(decision.outcome) if decision.outcome else "",
        "at": decision.at,
        "actor": decision.actor.get_username() if decision.actor else "",
        "candidates": candidates,
        "filtered_out": filtered,
        "filtered_counts": [
            {"code": k, "label": reason_label(k), "crews": v} for k, v in counts.items()
        ],
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
