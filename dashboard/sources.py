"""Reads the dashboard needs beyond the other apps' dashboard selectors: outages by type,
each repair order's priority and station, the names of types, categories and stations in
the page's language. Plain rows and dicts, read only.

These belong beside ``outages.selectors.dashboard``, ``workorders.selectors.dashboard`` and
``grids.selectors.dashboard`` and read those apps' rows the same way; they are kept here so
the figures they feed live in one place with their definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import F

from dispatch_center.core.i18n import pick_name


def outage_type_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Top-level outages (not nested, not cancelled) that started in [start, end), with
    their type: started_at, district_id, grid_id, type_code (the rows of
    ``outages.selectors.dashboard.dashboard_outage_rows``)."""
    from outages.models import Outage

    return (
        Outage.objects.filter(started_at__gte=start, started_at__lt=end, parent__isnull=True)
        .exclude(status=Outage.Status.CANCELLED)
        .order_by()
        .values("started_at", "district_id", "grid_id", type_code=F("type__code"))
        .iterator(chunk_size=5000)
    )


def order_priority_station(ids: Iterable[int]) -> dict[int, tuple[int, int | None]]:
    """Each repair order's priority and its crew's station (None without a crew)."""
    from workorders.models import WorkOrder

    ids = list(ids)
    out: dict[int, tuple[int, int | None]] = {}
    for n in range(0, len(ids), 5000):
        rows = WorkOrder.objects.filter(pk__in=ids[n : n + 5000]).values_list(
            "id", "priority", "crew__station_id"
        )
        out.update({pk: (priority, station) for pk, priority, station in rows})
    return out


def outage_type_names() -> dict[str, str]:
    """The 17 outage types in taxonomy order: code → name in the page's language."""
    from outages.models import OutageType

    rows = OutageType.objects.order_by("category__sort_order", "sort_order", "code")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }


def outage_category_names() -> dict[str, str]:
    """The 4 outage categories in order: code → name in the page's language."""
    from outages.models import OutageCategory

    rows = OutageCategory.objects.order_by("sort_order", "code")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }


def complaint_category_names() -> dict[str, str]:
    """Top-level complaint categories: code → name in the page's language."""
    from complaints.models import ComplaintCategory

    rows = ComplaintCategory.objects.filter(parent__isnull=True).order_by("pk")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }


def station_names() -> dict[int, str]:
    """Every repair station: id → name."""
    from grids.models import RepairStation

    return dict(RepairStation.objects.order_by("name").values_list("id", "name"))


def priority_names() -> dict[int, str]:
    """Work-order priorities (1 most urgent): value → label in the page's language."""
    from outages.models import Priority

    return {int(value): str(label) for value, label in Priority.choices}


def district_names() -> dict[int, str]:
    """Every district: id → name in the page's language (ordered by the Chinese name)."""
    from grids.models import District

    rows = District.objects.order_by("name").values_list("id", "name", "name_en")
    return {pk: pick_name(name, en) for pk, name, en in rows}
