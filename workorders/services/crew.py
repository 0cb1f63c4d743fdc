"""The crew app's own writes: location pings and idempotent actions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids import services as grid_services
from grids.models import Crew
from workorders.models import CrewActionRecord, CrewLocation, WorkOrder

from . import common


@transaction.atomic
def crew_locations_record(
    *, crew: Crew, points: Sequence[tuple[datetime, float, float]]
) -> tuple[int, bool]:
    """Store a batch of pings ``(at, lat, lng)`` (device timestamps); the same ping sent
    twice is stored once. The crew's last position moves to the newest point only if it is
    newer than the one it has (batches may arrive out of order). Returns (stored, moved).

    (The crew's position moves through ``grids.services.crew_position_update``.)
    """
    if not points:
        return 0, False
    now = timezone.now()
    for at, _lat, _lng in points:
        if at > now + common.CLOCK_SKEW:
            message = _("时间不能晚于当前时间。")
            raise DomainError(message, code="invalid", fields={"points": [message]})
    rows = [CrewLocation(crew=crew, at=at, lat=lat, lng=lng) for at, lat, lng in points]
    before = CrewLocation.objects.filter(crew=crew).count()
    CrewLocation.objects.bulk_create(rows, ignore_conflicts=True)
    stored = CrewLocation.objects.filter(crew=crew).count() - before
    at, lat, lng = max(points, key=lambda p: p[0])
    moved = grid_services.crew_position_update(crew_id=crew.pk, lat=lat, lng=lng, at=at)
    return stored, moved


def _fingerprint(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def crew_action_idempotent(
    *,
    order: WorkOrder,
    crew: Crew,
    key: str | None,
    payload: dict[str, Any],
    perform: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Run ``perform`` (the action and its answer) at most once per ``key`` for this order
    and crew. Returns (status code, body, replayed).

    The key's record is inserted first, in the action's transaction: a concurrent retry
    with the same key waits on the unique index until the first commits, then gets its
    answer. A failed action rolls back with its record, so a retry runs it again. The same
    key with a different payload is refused (``Conflict`` ``idempotency_key_reused``).
    """
    if not key:
        with transaction.atomic():
            status, body = perform()
        return status, body, False
    fingerprint = _fingerprint(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = CrewActionRecord.objects.create(
                    order=order,
                    crew=crew,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=0,
                    response={},
                )
        except IntegrityError:
            first = CrewActionRecord.objects.get(order=order, crew=crew, key=key)
            if first.fingerprint != fingerprint:
                raise Conflict(
                    _("该幂等键已用于另一个请求。"), code="idempotency_key_reused"
                ) from None
            return first.status_code, first.response, True
        status, body = perform()
        record.status_code = status
        record.response = body
        record.save(update_fields=["status_code", "response"])
        return status, body, False
