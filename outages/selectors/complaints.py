"""Reads for the complaints app: complaint links, trace facts, customer features."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q
from django.utils import timezone

from outages.models import EtrChange, Interruption, Outage

# --- Reads for the complaints app (complaint links, trace facts, customer features) --------


def complaint_outage_ids_for_service_point(*, service_point_id: int, since: datetime) -> list[int]:
    """Ids of outages that interrupted ``service_point_id`` since ``since`` (or still do)."""
    return list(
        Interruption.objects.filter(service_point_id=service_point_id, started_at__isnull=False)
        .filter(Q(started_at__gte=since) | Q(ended_at__isnull=True) | Q(ended_at__gte=since))
        .order_by("outage_id")
        .values_list("outage_id", flat=True)
        .distinct()
    )


def complaint_report_ids_for_service_point(*, service_point_id: int, since: datetime) -> list[int]:
    """Ids of trouble reports resolved to ``service_point_id`` received since ``since``."""
    from outages.models import TroubleReport

    return list(
        TroubleReport.objects.filter(service_point_id=service_point_id, received_at__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def complaint_outage_trace_facts(
    *, outage_ids: list[int], service_point_id: int | None
) -> list[dict[str, Any]]:
    """Per outage: start, restoration, every ETR announced (``(at, etr)``, from the ETR
    history, or the current ETR when there is no history) and the customer's own
    interruption."""
    outages = Outage.objects.filter(pk__in=outage_ids).prefetch_related(
        Prefetch("etr_changes", queryset=EtrChange.objects.order_by("at", "pk"))
    )
    own: dict[int, tuple[datetime | None, datetime | None]] = {}
    if service_point_id is not None:
        for oid, start, end in Interruption.objects.filter(
            outage_id__in=outage_ids, service_point_id=service_point_id
        ).values_list("outage_id", "started_at", "ended_at"):
            own[oid] = (start, end)
    rows = []
    for o in outages.order_by("pk"):
        etrs = [(c.at, c.new_etr) for c in o.etr_changes.all() if c.new_etr is not None]
        if not etrs and o.etr is not None:
            etrs = [(o.updated_at if o.updated_at <= o.etr else o.etr, o.etr)]
        start, end = own.get(o.pk, (None, None))
        rows.append(
            {
                "outage_id": o.pk,
                "started_at": o.started_at,
                "restored_at": o.restored_at,
                "etrs": etrs,
                "customer_started_at": start,
                "customer_ended_at": end,
            }
        )
    return rows


def complaint_interruption_features(
    *, since: datetime, year_start: datetime, now: datetime | None = None
) -> dict[int, dict[str, float]]:
    """Per service point with any interruption: sustained interruptions (> 5 min) and minutes
    out since ``since``, the longest one, and sustained interruptions since ``year_start``.
    One aggregate query; service points with none are absent."""
    from django.db.models import DurationField, ExpressionWrapper, Max, Sum
    from django.db.models.functions import Coalesce, Now

    now = now or timezone.now()
    length = ExpressionWrapper(
        Coalesce(F("ended_at"), Now()) - F("started_at"), output_field=DurationField()
    )
    sustained = Q(started_at__isnull=False) & (
        Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + timedelta(minutes=5))
    )
    recent = Q(started_at__gte=since)
    rows = (
        Interruption.objects.filter(sustained, started_at__gte=min(since, year_start))
        .values("service_point_id")
        .annotate(
            n_recent=Count("pk", filter=recent),
            n_year=Count("pk", filter=Q(started_at__gte=year_start)),
            total=Sum(length, filter=recent),
            longest=Max(length, filter=recent),
        )
        .order_by()
    )
    out: dict[int, dict[str, float]] = {}
    for r in rows:
        out[r["service_point_id"]] = {
            "interruptions_90d": float(r["n_recent"]),
            "minutes_90d": (r["total"] or timedelta()).total_seconds() / 60,
            "longest_minutes_90d": (r["longest"] or timedelta()).total_seconds() / 60,
            "interruptions_year": float(r["n_year"]),
        }
    return out


def complaint_sustained_interruptions_since(*, service_point_id: int, since: datetime) -> int:
    """Sustained interruptions (longer than 5 minutes, or still going) since ``since``."""
    return (
        Interruption.objects.filter(service_point_id=service_point_id, started_at__gte=since)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + timedelta(minutes=5)))
        .count()
    )


def complaint_report_counts(*, since: datetime) -> dict[int, int]:
    """Per service point: trouble reports received since ``since``."""
    from outages.models import TroubleReport

    return dict(
        TroubleReport.objects.filter(service_point_id__isnull=False, received_at__gte=since)
        .values_list("service_point_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def complaint_report_facts(*, report_ids: list[int]) -> list[dict[str, Any]]:
    """Per report: when it came in and whether it was tied to an outage."""
    from outages.models import TroubleReport

    return [
        {"report_id": pk, "received_at": at, "linked": outage_id is not None}
        for pk, at, outage_id in TroubleReport.objects.filter(pk__in=report_ids)
        .order_by("pk")
        .values_list("pk", "received_at", "outage_id")
    ]
