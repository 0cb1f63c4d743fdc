"""Reads for the supervisors' dashboard (``dashboard`` app): the repair orders created in a
time range with their lifecycle timestamps, their crew's home grid, and how many dispatch
decisions and pre-emptions each had."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from workorders.models import DispatchDecision, WorkOrder, WorkOrderEvent


def _count_of(qs: Any) -> Coalesce:
    sub = qs.order_by().values("order_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def dashboard_order_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Repair orders (outage, premise, danger) created in [start, end), as plain rows."""
    decisions = _count_of(DispatchDecision.objects.filter(order_id=OuterRef("pk")))
    preemptions = _count_of(
        WorkOrderEvent.objects.filter(order_id=OuterRef("pk"), kind=WorkOrderEvent.Kind.PREEMPTED)
    )
    return (
        WorkOrder.objects.filter(
            created_at__gte=start, created_at__lt=end, kind__in=WorkOrder.SLA_KINDS
        )
        .order_by()
        .annotate(n_decisions=decisions, n_preemptions=preemptions)
        .values(
            "id",
            "created_at",
            "district_id",
            "grid_id",
            "crew_id",
            "status",
            "dispatched_at",
            "accepted_at",
            "arrived_at",
            "restored_at",
            "completed_at",
            "arrive_due_at",
            "restore_due_at",
            "published_at",
            "claimed_at",
            "n_decisions",
            "n_preemptions",
            crew_grid_id=F("crew__station__grid_id"),
        )
        .iterator(chunk_size=5000)
    )


def order_priority_station(ids: Iterable[int]) -> dict[int, tuple[int, int | None]]:
    """Each repair order's priority and its crew's station (None without a crew)."""
    ids = list(ids)
    out: dict[int, tuple[int, int | None]] = {}
    for n in range(0, len(ids), 5000):
        rows = WorkOrder.objects.filter(pk__in=ids[n : n + 5000]).values_list(
            "id", "priority", "crew__station_id"
        )
        out.update({pk: (priority, station) for pk, priority, station in rows})
    return out
