"""Helpers shared by the complaint services: the timeline, the calendar, references, locks.

Nothing here opens its own transaction: callers are ``@transaction.atomic`` services.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from complaints.calendar import WorkCalendar
from complaints.models import CalendarDay, Complaint, ComplaintEvent
from dispatch_center.core import timeline


def record_event(
    *,
    complaint: Complaint,
    kind: str,
    at: datetime | None = None,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> ComplaintEvent:
    """Append one line to a complaint's timeline (``dispatch_center.core.timeline``)."""
    return timeline.record_event(
        ComplaintEvent,
        complaint=complaint,
        kind=kind,
        at=at or timezone.now(),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def work_calendar(*, start: date, days: int = 120) -> WorkCalendar:
    """The holidays and make-up working days from ``start`` over the next ``days`` days."""
    rows = CalendarDay.objects.filter(
        date__gte=start, date__lte=start + timedelta(days=days)
    ).values_list("date", "kind")
    holidays = {d for d, k in rows if k == CalendarDay.Kind.HOLIDAY}
    workdays = {d for d, k in rows if k == CalendarDay.Kind.WORKDAY}
    return WorkCalendar(holidays=frozenset(holidays), workdays=frozenset(workdays))


def new_reference(at: datetime) -> str:
    """``TS`` + the local date + 6 random digits (unguessable, sortable by day)."""
    local = timezone.localtime(at)
    for _ in range(10):
        ref = f"TS{local:%y%m%d}{secrets.randbelow(10**6):06d}"
        if not Complaint.objects.filter(reference=ref).exists():
            return ref
    raise RuntimeError("could not draw a free complaint reference")


def complaint_qs_for_update(pks: list[int]) -> QuerySet[Complaint]:
    """Lock complaints in primary-key order (complaints come after workorders in the lock
    order)."""
    return Complaint.objects.select_for_update().filter(pk__in=sorted(set(pks))).order_by("pk")
