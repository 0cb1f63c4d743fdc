"""The one status change of a complaint."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import calendar as cal
from complaints.models import Accountability, Complaint, Trace
from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, TransitionNotAllowed

from .common import record_event, work_calendar

S = Complaint.Status


def close_blockers(complaint: Complaint) -> list[str]:
    """Why ``complaint`` may not be closed yet (empty: it may)."""
    missing = []
    if not Trace.objects.filter(complaint=complaint, confirmed_at__isnull=False).exists():
        missing.append(_("溯源尚未确认"))
    if not Accountability.objects.filter(complaint=complaint).exists():
        missing.append(_("问责尚未填写"))
    return missing


@transaction.atomic
def complaint_transition(
    *,
    complaint: Complaint,
    to: str,
    actor: User | None = None,
    reason: str = "",
    reply: str = "",
) -> Complaint:
    """Move ``complaint`` from the status and version the caller saw to ``to``.

    Checks the transition table; closing needs a confirmed trace and an accountability
    record; a reply needs its text. Sets the timestamp of the new status (``contacted_at``,
    ``replied_at``, ``closed_at``; reopening clears ``closed_at``, counts the reopening and
    restarts the reply clock) in one ``UPDATE ... WHERE status=<seen> AND version=<seen>``,
    then writes the timeline row. ``ConcurrentUpdate`` when somebody changed it first.
    """
    current = complaint.status
    if to not in S.values or to not in Complaint.ALLOWED_TRANSITIONS.get(current, frozenset()):
        raise TransitionNotAllowed(current, to)
    if to == S.CLOSED and (missing := close_blockers(complaint)):
        message = _("办结前须完成：%(m)s。") % {"m": "、".join(missing)}
        raise DomainError(message, code="close_blocked", fields={"status": [message]})
    if to == S.REPLIED and not (reply or complaint.reply).strip():
        message = _("请填写答复内容。")
        raise DomainError(message, code="invalid", fields={"reply": [message]})
    now = timezone.now()
    updates: dict[str, Any] = {"status": to}
    if to == S.CONTACTED:
        updates["contacted_at"] = now
    elif to == S.REPLIED:
        updates["replied_at"] = now
        if reply:
            updates["reply"] = reply
    elif to == S.CLOSED:
        updates["closed_at"] = now
    elif to == S.REOPENED:
        local = timezone.localtime(now)
        days = complaint.category.effective_reply_working_days
        updates.update(
            closed_at=None,
            reply_due_at=cal.reply_due(local, days, work_calendar(start=local.date())),
            reply_warned_at=None,
            reply_breached_at=None,
            reopened_count=F("reopened_count") + 1,
        )
    rows = Complaint.objects.filter(
        pk=complaint.pk, status=current, version=complaint.version
    ).update(version=F("version") + 1, updated_at=now, **updates)
    if rows != 1:
        raise ConcurrentUpdate(complaint.pk)
    complaint.refresh_from_db()
    record_event(
        complaint=complaint,
        kind="status_changed",
        at=now,
        actor=actor,
        from_status=current,
        to_status=to,
        reason=reason,
        data={"reply": reply} if reply else {},
    )
    return complaint
