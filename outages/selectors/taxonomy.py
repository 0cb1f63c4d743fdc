"""The outage taxonomy as other apps read it: the active causes and types."""

from __future__ import annotations

from django.db.models import QuerySet

from outages.models import OutageCause, OutageType


def outage_causes() -> QuerySet[OutageCause]:
    """The active causes (a crew's findings, an API field's choices), in the taxonomy's order."""
    return OutageCause.objects.filter(is_active=True).order_by("sort_order", "code")


def outage_types_active() -> QuerySet[OutageType]:
    """The active outage types with their category, by category then code."""
    return (
        OutageType.objects.filter(is_active=True)
        .select_related("category")
        .order_by("category__sort_order", "code")
    )
