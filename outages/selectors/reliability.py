"""Reads for the reliability app: interruptions for frequent-outage counting and indices."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from outages.models import Interruption, Outage
from outages.selectors.outages import outage_get

# --- Reads for the reliability app (frequent outages and indices) ---------------------------

RELIABILITY_INTERRUPTION_FIELDS = (
    "service_point_id",
    "started_at",
    "ended_at",
    "outage_id",
    "outage__type__category__code",
    "outage__type__code",
    "outage__type__counts_in_reliability",
    "outage__cause__code",
    "outage__service_point_id",
)


def interruptions_for_reliability(
    *,
    started_from: datetime,
    started_before: datetime,
    service_point_ids: Any = None,
) -> QuerySet[Interruption, dict[str, Any]]:
    """Started interruptions in ``[started_from, started_before)`` as plain dicts (the fields
    of ``RELIABILITY_INTERRUPTION_FIELDS``), for the reliability engines; optionally only
    those of ``service_point_ids`` (a list or a values queryset). Ordered by service point
    and start, so a caller can stream them one customer at a time."""
    qs = Interruption.objects.filter(
        started_at__isnull=False, started_at__gte=started_from, started_at__lt=started_before
    )
    if service_point_ids is not None:
        qs = qs.filter(service_point_id__in=service_point_ids)
    return qs.order_by("service_point_id", "started_at").values(*RELIABILITY_INTERRUPTION_FIELDS)


def interruption_service_point_ids_with_at_least(
    *,
    started_from: datetime,
    started_before: datetime,
    longer_than: timedelta,
    count: int,
    recent: tuple[tuple[datetime, int], ...] = (),
) -> QuerySet[Any, Any]:
    """Service points with ``count`` or more started interruptions in the window lasting more
    than ``longer_than`` (still-open ones included), or, for any ``(since, n)`` of ``recent``,
    ``n`` or more of them started since ``since``: a values queryset of ``service_point_id``
    (one GROUP BY), usable as a subquery."""
    qs = (
        Interruption.objects.filter(started_at__gte=started_from, started_at__lt=started_before)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + longer_than))
        .values("service_point_id")
        .annotate(
            n=Count("id"),
            **{
                f"r{i}": Count("id", filter=Q(started_at__gte=since))
                for i, (since, _n) in enumerate(recent)
            },
        )
    )
    having = Q(n__gte=count)
    for i, (_since, n) in enumerate(recent):
        having |= Q(**{f"r{i}__gte": n})
    return qs.filter(having).values("service_point_id")


def outage_service_point_ids(*, outage_id: int, ended_only: bool = False) -> list[int]:
    """The service points of an outage's interruptions (only those restored, if asked)."""
    qs = Interruption.objects.filter(outage_id=outage_id)
    if ended_only:
        qs = qs.filter(ended_at__isnull=False)
    return list(qs.values_list("service_point_id", flat=True).distinct())


def outage_for_reliability_preview(*, outage_id: int) -> Outage:
    """A (planned) outage with its category, for the frequent-outage preview; ``NotFound``."""
    return outage_get(outage_id=outage_id)
