"""Reads for the complaints app: complaint links, trace facts, SLA breaches experienced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from workorders.models import WorkOrder, WorkOrderEvent

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
