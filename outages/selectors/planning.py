"""What a dispatcher sees before publishing a planned or temporary outage: the customers its
devices cut off, the important ones, who can be told by SMS, and the notice rule that applies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from grids.models import Device, ServicePoint
from grids.selectors.topology import device_downstream_service_points
from outages.models import OutageType


def planned_outage_preview(
    *, type: OutageType, devices: Sequence[Device], planned_start_at: datetime | None = None
) -> dict[str, Any]:
    """The customers below ``devices`` (counted once), the important ones and those with a
    phone on file, and whether ``type``'s notice rule is met by ``planned_start_at`` (None:
    no rule applies). One count query per device plus one in all."""
    ids: set[int] = set()
    for device in devices:
        fresh = Device.objects.get(pk=device.pk)
        ids.update(device_downstream_service_points(device=fresh).values_list("pk", flat=True))
    counts = ServicePoint.objects.filter(pk__in=ids).aggregate(
        important=Count("pk", filter=Q(is_important=True)),
        with_phone=Count("pk", filter=~Q(phone="")),
    )
    rule = type.notice_rule
    applies = type.notice_period is not None and rule != OutageType.NoticeRule.NONE
    if rule == OutageType.NoticeRule.IMPORTANT_CUSTOMERS:
        applies = applies and counts["important"] > 0
    period_hours = type.notice_period.total_seconds() / 3600 if type.notice_period else None
    short = None
    if applies and planned_start_at is not None and type.notice_period is not None:
        short = planned_start_at - timezone.now() < type.notice_period
    return {
        "customers": len(ids),
        "important": counts["important"],
        "with_phone": counts["with_phone"],
        "notice_rule": rule,
        "notice_required": applies,
        "notice_period_hours": period_hours if applies else None,
        "short_notice": bool(short),
    }


def devices_near(
    *, lat: float, lng: float, radius_m: float = 800.0, limit: int = 12
) -> list[Device]:
    """Devices with a position within ``radius_m`` of (lat, lng), nearest first (a bounding box
    on the coordinates, then the distance in Python: a few hundred rows at most)."""
    import math

    dlat = radius_m / 111_320.0
    dlng = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01))
    rows = list(
        Device.objects.filter(
            lat__gte=lat - dlat, lat__lte=lat + dlat, lng__gte=lng - dlng, lng__lte=lng + dlng
        ).only("pk", "code", "name", "kind", "lat", "lng", "energized")[:2000]
    )
    scale = math.cos(math.radians(lat))

    def metres(d: Device) -> float:
        return math.hypot((d.lat or 0.0) - lat, ((d.lng or 0.0) - lng) * scale) * 111_320.0

    for device in rows:
        device.distance_m = round(metres(device), 1)  # type: ignore[attr-defined]
    rows = [d for d in rows if d.distance_m <= radius_m]  # type: ignore[attr-defined]
    rows.sort(key=lambda d: (d.distance_m, d.pk))  # type: ignore[attr-defined]
    return rows[:limit]
