"""Writes of crew rows that follow from field work: the lock helper, the last known position
and the displayed status. Higher apps (``workorders``) change crews only through these.

Neither write bumps ``updated_at``: they are frequent and narrow, and the dispatcher console
digests these columns directly (``workorders.selectors.console.crews_fingerprint``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from grids.models import Crew


def crew_qs_for_update(pks: Iterable[int | None]) -> QuerySet[Crew]:
    """Lock crews, always in primary-key order (grids rows come first in the lock order:
    grids → outages → workorders). Evaluate it inside the caller's transaction."""
    ids = sorted({pk for pk in pks if pk is not None})
    return Crew.objects.select_for_update().filter(pk__in=ids).order_by("pk")


@transaction.atomic
def crew_position_update(*, crew_id: int, lat: float, lng: float, at: datetime) -> bool:
    """Move the crew's last known position to (``lat``, ``lng``) seen at ``at``, only if it is
    newer than the one it has (pings arrive out of order). One conditional update, so a
    concurrent older batch can never move the crew backwards. Returns whether it moved."""
    rows = Crew.objects.filter(
        Q(last_located_at__isnull=True) | Q(last_located_at__lt=at), pk=crew_id
    ).update(last_lat=lat, last_lng=lng, last_located_at=at)
    return rows == 1


@transaction.atomic
def crew_status_set(*, crew_ids: Iterable[int], status: str) -> int:
    """Set the displayed ``status`` of the crews (only rows whose status differs are written).
    Returns the number of rows changed."""
    if status not in Crew.Status.values:
        raise ValueError(f"unknown crew status {status!r}")
    return Crew.objects.filter(pk__in=list(crew_ids)).exclude(status=status).update(status=status)


@transaction.atomic
def crew_on_duty_set(*, crew_id: int, on_duty: bool) -> None:
    """Put the crew on or off duty (``updated_at`` moves: the console shows the change).
    The work-order side of going off duty is ``workorders.services.crew_set_on_duty``."""
    Crew.objects.filter(pk=crew_id).update(on_duty=on_duty, updated_at=timezone.now())
