"""Reads for the supervisors' dashboard (``dashboard`` app): plain rows of reports, calls and
outages that started in a time range, with the district and grid they belong to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import F

from dispatch_center.core.i18n import pick_name
from outages.models import CallLog, Outage, OutageCategory, OutageType, Priority, TroubleReport


def dashboard_report_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Reports received in [start, end): received_at, channel, status, district_id, grid_id
    (of the located customer; None when not located)."""
    return (
        TroubleReport.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .values(
            "received_at",
            "channel",
            "status",
            district_id=F("service_point__district_id"),
            grid_id=F("service_point__grid_id"),
        )
        .iterator(chunk_size=5000)
    )


def dashboard_call_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Hotline calls recorded in [start, end): id, at, agent_id, caller_phone, outage_id,
    handling_seconds, district_id, grid_id (of the caller's customer)."""
    return (
        CallLog.objects.filter(at__gte=start, at__lt=end)
        .order_by()
        .values(
            "id",
            "at",
            "agent_id",
            "caller_phone",
            "outage_id",
            "handling_seconds",
            district_id=F("service_point__district_id"),
            grid_id=F("service_point__grid_id"),
        )
        .iterator(chunk_size=5000)
    )


def dashboard_outage_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Top-level outages (not nested, not cancelled) that started in [start, end):
    started_at, restored_at, etr, district_id, grid_id, category, customers_affected."""
    return (
        Outage.objects.filter(started_at__gte=start, started_at__lt=end, parent__isnull=True)
        .exclude(status=Outage.Status.CANCELLED)
        .order_by()
        .values(
            "started_at",
            "restored_at",
            "etr",
            "district_id",
            "grid_id",
            "customers_affected",
            category=F("type__category__code"),
        )
        .iterator(chunk_size=5000)
    )


def dashboard_outage_category_names() -> dict[str, str]:
    """Outage categories (the 4): code → name."""
    return dict(OutageCategory.objects.order_by("sort_order").values_list("code", "name"))


def outage_type_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Top-level outages (not nested, not cancelled) that started in [start, end), with
    their type: started_at, district_id, grid_id, type_code (the rows of
    ``outages.selectors.dashboard.dashboard_outage_rows``)."""
    return (
        Outage.objects.filter(started_at__gte=start, started_at__lt=end, parent__isnull=True)
        .exclude(status=Outage.Status.CANCELLED)
        .order_by()
        .values("started_at", "district_id", "grid_id", type_code=F("type__code"))
        .iterator(chunk_size=5000)
    )


def outage_type_names() -> dict[str, str]:
    """The 17 outage types in taxonomy order: code → name in the page's language."""
    rows = OutageType.objects.order_by("category__sort_order", "sort_order", "code")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }


def outage_category_names() -> dict[str, str]:
    """The 4 outage categories in order: code → name in the page's language."""
    rows = OutageCategory.objects.order_by("sort_order", "code")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }


def priority_names() -> dict[int, str]:
    """Work-order priorities (1 most urgent): value → label in the page's language."""
    return {int(value): str(label) for value, label in Priority.choices}
