"""Reads for the supervisors' dashboard (``dashboard`` app): the stored reliability totals of
a period per area, and frequent-outage alert counts. Plain dicts; the indices themselves are
computed by the pure ``reliability.indices`` from these totals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Max, Q, Sum

from reliability.models import DailyReliability, FrequentOutageAlert

AREA_SCOPES = (
    DailyReliability.Scope.CITY,
    DailyReliability.Scope.DISTRICT,
    DailyReliability.Scope.GRID,
)


def dashboard_reliability_totals(
    *, first: date, last: date, scope: str, scope_ids: Iterable[int] | None = None
) -> dict[int, dict[str, Any]]:
    """Per area of ``scope`` (city id 0, a district, a grid), the sums of the stored daily
    totals (all interruptions) over ``[first, last]``: ``customer_interruptions``,
    ``customer_minutes``, ``momentary_interruptions``, ``customers_served`` (the largest of
    the days) and ``days``. An area without any stored row in the period is absent (it had no
    interruption). One grouped query."""
    if scope not in AREA_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    qs = DailyReliability.objects.filter(
        scope=scope, split=DailyReliability.Split.ALL, day__gte=first, day__lte=last
    )
    if scope_ids is not None:
        qs = qs.filter(scope_id__in=list(scope_ids))
    rows = (
        qs.order_by()
        .values("scope_id")
        .annotate(
            ci=Sum("customer_interruptions"),
            cmi=Sum("customer_minutes"),
            mi=Sum("momentary_interruptions"),
            served=Max("customers_served"),
            days=Count("id"),
        )
    )
    return {
        int(r["scope_id"]): {
            "customer_interruptions": int(r["ci"] or 0),
            "customer_minutes": float(r["cmi"] or 0.0),
            "momentary_interruptions": int(r["mi"] or 0),
            "customers_served": int(r["served"] or 0),
            "days": int(r["days"]),
        }
        for r in rows
    }


def dashboard_frequent_counts(
    *,
    start: datetime,
    end: datetime,
    district_id: int | None = None,
    grid_id: int | None = None,
) -> dict[str, dict[str, int]]:
    """Frequent-outage alerts of the area's customers, per level ("warning", "frequent"):
    ``new`` (first raised in ``[start, end)``) and ``open`` (open now). One query."""
    qs = FrequentOutageAlert.objects.all()
    if grid_id is not None:
        qs = qs.filter(service_point__grid_id=grid_id)
    elif district_id is not None:
        qs = qs.filter(service_point__district_id=district_id)
    new = Q(first_raised_at__gte=start, first_raised_at__lt=end)
    is_open = Q(status=FrequentOutageAlert.Status.OPEN)
    rows = (
        qs.order_by()
        .values("level")
        .annotate(new=Count("id", filter=new), open=Count("id", filter=is_open))
    )
    out = {level: {"new": 0, "open": 0} for level in FrequentOutageAlert.Level.values}
    for r in rows:
        out[r["level"]] = {"new": r["new"], "open": r["open"]}
    return out
