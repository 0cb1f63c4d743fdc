"""Deadline warnings and breaches (the complaint's clocks), marked once each by beat."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from complaints.models import Complaint

from .common import record_event

# Warn once this share of the time to a deadline has gone.
WARNING_RATIO = 0.75


def warn_at(received_at: datetime, due_at: datetime) -> datetime:
    return received_at + (due_at - received_at) * WARNING_RATIO


@transaction.atomic
def complaint_deadline_check(*, complaint_id: int, now: datetime | None = None) -> list[str]:
    """Set whichever of the four marks is due and not set yet (contact warned / breached,
    reply warned / breached), each with its timeline row. Safe to run twice: every mark is
    claimed with a conditional update. Returns the marks set."""
    now = now or timezone.now()
    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None:
        return []
    marks: list[tuple[str, str, datetime, Q]] = []
    waiting_contact = Q(status=Complaint.Status.REGISTERED)
    waiting_reply = Q(status__in=Complaint.AWAITING_REPLY)
    marks.append(
        (
            "contact_warned_at",
            "contact",
            warn_at(complaint.received_at, complaint.contact_due_at),
            waiting_contact,
        )
    )
    marks.append(("contact_breached_at", "contact", complaint.contact_due_at, waiting_contact))
    marks.append(
        (
            "reply_warned_at",
            "reply",
            warn_at(complaint.received_at, complaint.reply_due_at),
            waiting_reply,
        )
    )
    marks.append(("reply_breached_at", "reply", complaint.reply_due_at, waiting_reply))
    done = []
    for field, clock, due, cond in marks:
        if due > now:
            continue
        rows = Complaint.objects.filter(cond, pk=complaint_id, **{f"{field}__isnull": True}).update(
            **{field: now}
        )
        if rows == 1:
            breached = field.endswith("breached_at")
            record_event(
                complaint=complaint,
                kind="deadline_breached" if breached else "deadline_warning",
                at=now,
                actor_label="beat",
                data={
                    "clock": clock,
                    "due": timezone.localtime(
                        complaint.contact_due_at if clock == "contact" else complaint.reply_due_at
                    ).isoformat(),
                },
            )
            done.append(field)
    return done
