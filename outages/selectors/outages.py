"""Reads of the outages app. Each returns rows with their relations already loaded."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from grids.models import District, ServicePoint
from outages.models import EtrChange, Interruption, Outage, OutageEvent

_LIST_RELATED = ("type__category", "device", "cause", "district", "grid")


def outage_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Outage]:
    """Outages, newest first, filtered by any of: ``status`` (list), ``category`` / ``type``
    (codes), ``district`` / ``grid`` (ids), ``active`` (bool: customers out now or not),
    ``source``, ``updated_since`` (datetime)."""
    filters = filters or {}
    qs = Outage.objects.select_related(*_LIST_RELATED).order_by("-created_at", "-pk")
    if statuses := filters.get("status"):
        qs = qs.filter(status__in=list(statuses))
    if category := filters.get("category"):
        qs = qs.filter(type__category__code=category)
    if type_code := filters.get("type"):
        qs = qs.filter(type__code=type_code)
    if district := filters.get("district"):
        qs = qs.filter(district_id=district)
    if grid := filters.get("grid"):
        qs = qs.filter(grid_id=grid)
    if source := filters.get("source"):
        qs = qs.filter(source=source)
    if (active := filters.get("active")) is not None:
        qs = qs.filter(status__in=Outage.ACTIVE) if active else qs.exclude(status__in=Outage.ACTIVE)
    if since := filters.get("updated_since"):
        qs = qs.filter(updated_at__gte=since)
    return qs


def outage_list_active() -> QuerySet[Outage]:
    """Outages with customers out right now, biggest first."""
    return (
        Outage.objects.filter(status__in=Outage.ACTIVE)
        .select_related(*_LIST_RELATED)
        .order_by("-customers_affected", "-pk")
    )


def outage_get(*, outage_id: int) -> Outage:
    """One outage with its type and category, for a write; ``NotFound``."""
    outage = Outage.objects.select_related("type__category").filter(pk=outage_id).first()
    if outage is None:
        raise NotFound(_("停电事件 %(id)s 不存在。") % {"id": outage_id})
    return outage


def outage_get_detail(*, outage_id: int) -> Outage:
    """One outage with its timeline, ETR history, devices and children; ``NotFound``."""
    outage = (
        Outage.objects.select_related(*_LIST_RELATED, "service_point", "parent", "created_by")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=OutageEvent.objects.select_related("actor").order_by("at", "pk"),
            ),
            Prefetch("etr_changes", queryset=EtrChange.objects.order_by("at", "pk")),
            "extra_devices",
            Prefetch(
                "children", queryset=Outage.objects.order_by("pk").only("pk", "status", "parent")
            ),
        )
        .filter(pk=outage_id)
        .first()
    )
    if outage is None:
        raise NotFound(_("停电事件 %(id)s 不存在。") % {"id": outage_id})
    return outage


def outage_for_service_point(*, service_point: ServicePoint | int) -> Outage | None:
    """The active outage that has ``service_point`` out now, innermost nested first.

    Across independent overlapping outages the one that cut the customer off first wins
    (its row is the counted one).
    """
    sp_id = service_point if isinstance(service_point, int) else service_point.pk
    row = (
        Interruption.objects.filter(
            service_point_id=sp_id,
            started_at__isnull=False,
            ended_at__isnull=True,
            outage__status__in=Outage.ACTIVE,
        )
        .order_by(
            "-outage__depth", F("already_out_in_id").asc(nulls_first=True), "started_at", "pk"
        )
        .values_list("outage_id", flat=True)
        .first()
    )
    if row is None:
        return None
    return Outage.objects.select_related(*_LIST_RELATED).get(pk=row)


def planned_outages_for_service_point(
    *,
    service_point: ServicePoint | int,
    days: int = 7,
    now: datetime | None = None,
    published_only: bool = False,
) -> QuerySet[Outage]:
    """Planned outages that will interrupt (or are interrupting) ``service_point`` within the
    next ``days`` days, soonest first. ``published_only``: only those whose notice is out
    (what the public may see)."""
    sp_id = service_point if isinstance(service_point, int) else service_point.pk
    now = now or timezone.now()
    statuses = [Outage.Status.NOTIFIED, Outage.Status.IN_PROGRESS, Outage.Status.PARTIALLY_RESTORED]
    if not published_only:
        statuses.append(Outage.Status.SCHEDULED)
    return (
        Outage.objects.filter(
            planned_start_at__isnull=False,
            planned_start_at__lte=now + timedelta(days=days),
            planned_end_at__gte=now,
            status__in=statuses,
            interruptions__service_point_id=sp_id,
        )
        .select_related(*_LIST_RELATED)
        .order_by("planned_start_at", "pk")
    )


def planned_outage_notices(
    *,
    days: int = 7,
    district_id: int | None = None,
    now: datetime | None = None,
    published_only: bool = False,
) -> QuerySet[Outage]:
    """Planned outages starting within ``days`` days or under way, soonest first."""
    now = now or timezone.now()
    statuses = [Outage.Status.NOTIFIED, Outage.Status.IN_PROGRESS, Outage.Status.PARTIALLY_RESTORED]
    if not published_only:
        statuses.append(Outage.Status.SCHEDULED)
    qs = Outage.objects.filter(
        planned_start_at__isnull=False,
        planned_start_at__lte=now + timedelta(days=days),
        planned_end_at__gte=now,
        status__in=statuses,
    )
    if district_id:
        qs = qs.filter(district_id=district_id)
    return qs.select_related(*_LIST_RELATED).order_by("planned_start_at", "pk")


def outage_counts_by_district() -> list[dict[str, Any]]:
    """Per district: active outages and customers out now, each customer counted once even
    when overlapping outages cover them. Districts with nothing out are included (zeros)."""
    outages = dict(
        Outage.objects.filter(status__in=Outage.ACTIVE)
        .values_list("district_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    customers = dict(
        Interruption.objects.filter(
            started_at__isnull=False, ended_at__isnull=True, outage__status__in=Outage.ACTIVE
        )
        .values_list("service_point__district_id")
        .annotate(n=Count("service_point_id", distinct=True))
        .order_by()
    )
    rows = [
        {
            "district_id": d.pk,
            "district_code": d.code,
            "district_name": d.name,
            "outages": outages.get(d.pk, 0),
            "customers_out": customers.get(d.pk, 0),
        }
        for d in District.objects.order_by("code")
    ]
    if outages.get(None) or customers.get(None):
        rows.append(
            {
                "district_id": None,
                "district_code": "",
                "district_name": _("未知"),
                "outages": outages.get(None, 0),
                "customers_out": customers.get(None, 0),
            }
        )
    return rows


def planned_outage_ids_due_to_start(*, now: datetime | None = None) -> list[int]:
    """Ids of scheduled / notified planned outages whose planned start has come."""
    now = now or timezone.now()
    return list(
        Outage.objects.filter(status__in=Outage.NOT_STARTED, planned_start_at__lte=now)
        .order_by("planned_start_at", "pk")
        .values_list("pk", flat=True)
    )


def planned_outage_ids_due_to_end(*, now: datetime | None = None) -> list[int]:
    """Ids of planned outages under way whose planned end has come."""
    now = now or timezone.now()
    return list(
        Outage.objects.filter(
            Q(status=Outage.Status.IN_PROGRESS)
            | Q(status=Outage.Status.PARTIALLY_RESTORED, source=Outage.Source.PLANNED),
            planned_end_at__isnull=False,
            planned_end_at__lte=now,
        )
        .order_by("planned_end_at", "pk")
        .values_list("pk", flat=True)
    )


def outages_near_point(
    *, lat: float, lng: float, radius_m: float, limit: int = 5
) -> tuple[int, list[Outage]]:
    """Active outages with a customer out within about ``radius_m`` of a point (a box of that
    half-width, served by the service points' (lat, lng) index): how many, and the ``limit``
    biggest with type, category and cause loaded."""
    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    near = Interruption.objects.filter(
        started_at__isnull=False,
        ended_at__isnull=True,
        service_point__lat__range=(lat - dlat, lat + dlat),
        service_point__lng__range=(lng - dlng, lng + dlng),
    ).values("outage_id")
    qs = Outage.objects.filter(status__in=Outage.ACTIVE, pk__in=near)
    total = qs.count()
    if not total:
        return 0, []
    rows = list(
        qs.select_related("type__category", "cause").order_by("-customers_affected", "-pk")[:limit]
    )
    return total, rows
