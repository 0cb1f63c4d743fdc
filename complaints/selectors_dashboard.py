"""Reads for the supervisors' dashboard (``dashboard`` app): complaints received in a time
range, by top-level category, with their district and grid."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from django.db.models import F
from django.db.models.functions import Coalesce

from complaints.models import Complaint, ComplaintCategory
from dispatch_center.core.i18n import pick_name


def dashboard_complaint_rows(*, start: datetime, end: datetime) -> Iterator[Mapping[str, Any]]:
    """Complaints received in [start, end): received_at, district_id, grid_id and the code
    of the top-level category (``category_code``)."""
    return (
        Complaint.objects.filter(received_at__gte=start, received_at__lt=end)
        .order_by()
        .values(
            "received_at",
            "district_id",
            "grid_id",
            category_code=Coalesce(F("category__parent__code"), F("category__code")),
        )
        .iterator(chunk_size=5000)
    )


def dashboard_complaint_category_names() -> dict[str, str]:
    """Top-level complaint categories: code → name."""
    return dict(ComplaintCategory.objects.filter(parent__isnull=True).values_list("code", "name"))


def complaint_category_names() -> dict[str, str]:
    """Top-level complaint categories: code → name in the page's language."""
    rows = ComplaintCategory.objects.filter(parent__isnull=True).order_by("pk")
    return {
        code: pick_name(name, en) for code, name, en in rows.values_list("code", "name", "name_en")
    }
