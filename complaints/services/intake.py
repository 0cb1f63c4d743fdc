"""Registering a complaint: deadlines from its category and the working-day calendar,
automatic links to the customer's last 30 days, risk flags and the escalation risk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import calendar as cal
from complaints import frequent
from complaints.models import Complaint, ComplaintCategory, ComplaintFlag, ComplaintLink
from dispatch_center.core.exceptions import DomainError
from grids.models import ServicePoint
from grids.selectors import reference as grid_reference
from outages import selectors as outage_selectors
from workorders import selectors as work_selectors

from .common import new_reference, record_event, work_calendar

LINK_WINDOW = timedelta(days=30)
REPEAT_WINDOW = timedelta(days=30)
HIGH_RISK_FROM = 5
MEDIUM_RISK_FROM = 2


def _field_error(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def complaint_deadlines(
    *, category: ComplaintCategory, received_at: datetime
) -> tuple[datetime, datetime]:
    """(contact due, reply due) for a complaint of ``category`` received at ``received_at``."""
    local = timezone.localtime(received_at)
    calendar = work_calendar(start=local.date())
    return (
        cal.contact_due(local, category.effective_contact_hours),
        cal.reply_due(local, category.effective_reply_working_days, calendar),
    )


@transaction.atomic
def complaint_create(
    *,
    category_code: str,
    channel: str,
    text: str,
    phone: str = "",
    service_point_id: int | None = None,
    account_no: str = "",
    area: str = "",
    district_id: int | None = None,
    received_at: datetime | None = None,
    actor: User | None = None,
    idempotency_key: str | None = None,
) -> Complaint:
    """Register a complaint; link it, flag it and start its clocks.

    A customer (``service_point_id`` or ``account_no``) is required except for public
    opinion, which may name only an ``area``. Errors name the field.
    """
    category = (
        ComplaintCategory.objects.select_related("parent")
        .filter(code=category_code, is_active=True)
        .first()
    )
    if category is None:
        raise _field_error("category", _("未知的投诉分类：%(code)s。") % {"code": category_code})
    if channel not in Complaint.Channel.values:
        raise _field_error("channel", _("未知的投诉渠道：%(c)s。") % {"c": channel})
    service_point: ServicePoint | None = None
    if service_point_id is not None:
        service_point = grid_reference.service_point_by_id(service_point_id)
        if service_point is None:
            raise _field_error("service_point", _("用电户不存在。"))
    elif account_no:
        service_point = ServicePoint.objects.filter(account_no=account_no.strip()).first()
        if service_point is None:
            raise _field_error("account_no", _("户号不存在：%(a)s。") % {"a": account_no})
    elif not (channel == Complaint.Channel.PUBLIC_OPINION and area.strip()):
        raise _field_error("account_no", _("请提供户号或用电户（舆情可只填写涉及区域）。"))
    district = None
    if district_id is not None:
        district = grid_reference.district_by_id(district_id)
        if district is None:
            raise _field_error("district", _("行政区不存在。"))
    now = timezone.now()
    received_at = min(received_at or now, now)
    contact_due, reply_due = complaint_deadlines(category=category, received_at=received_at)
    complaint = Complaint(
        reference=new_reference(received_at),
        category=category,
        channel=channel,
        service_point=service_point,
        area=area.strip(),
        district=district or (service_point.district if service_point else None),
        grid=service_point.grid if service_point else None,
        text=text,
        phone=phone or (service_point.phone if service_point else ""),
        received_at=received_at,
        contact_due_at=contact_due,
        reply_due_at=reply_due,
        risk=Complaint.Risk.LOW,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        idempotency_key=idempotency_key if actor is not None else None,
    )
    complaint.full_clean()
    complaint.save()
    record_event(
        complaint=complaint,
        kind="created",
        at=received_at,
        actor=complaint.created_by,
        to_status=complaint.status,
        data={"channel": channel, "category": category.code},
    )
    complaint_link_and_flag(complaint=complaint, now=received_at)
    return complaint


def complaint_register(
    *, idempotency_key: str | None, actor: User | None, **fields: Any
) -> tuple[Complaint, bool]:
    """``complaint_create`` that a client may retry: the same user's same ``idempotency_key``
    returns the complaint registered the first time (and ``False``: nothing new). Two
    concurrent first tries meet at the unique constraint; the loser returns the winner's."""

    def first() -> Complaint | None:
        if not idempotency_key or actor is None:
            return None
        return Complaint.objects.filter(created_by=actor, idempotency_key=idempotency_key).first()

    if (existing := first()) is not None:
        return existing, False
    try:
        with transaction.atomic():
            return complaint_create(actor=actor, idempotency_key=idempotency_key, **fields), True
    except IntegrityError:
        if (existing := first()) is not None:
            return existing, False
        raise


@dataclass(frozen=True)
class FlagResult:
    codes: list[str]
    score: int
    risk: str


def risk_of(codes: list[str]) -> tuple[int, str]:
    """The escalation-risk score (sum of the flags' weights) and its level."""
    score = sum(ComplaintFlag.WEIGHTS.get(c, 1) for c in codes)
    if score >= HIGH_RISK_FROM:
        return score, Complaint.Risk.HIGH
    if score >= MEDIUM_RISK_FROM:
        return score, Complaint.Risk.MEDIUM
    return score, Complaint.Risk.LOW


def complaint_link_and_flag(*, complaint: Complaint, now: datetime) -> FlagResult:
    """Link the customer's outages, reports and work orders of the previous 30 days, raise
    the risk flags and set the escalation risk. Caller holds the transaction; idempotent."""
    outage_ids, order_ids = _link_recent(complaint=complaint, now=now)
    flags = _risk_flags(complaint=complaint, now=now, outage_ids=outage_ids, order_ids=order_ids)
    ComplaintFlag.objects.bulk_create(
        [ComplaintFlag(complaint=complaint, code=c, detail=d) for c, d in flags.items()],
        ignore_conflicts=True,
    )
    codes = sorted(ComplaintFlag.objects.filter(complaint=complaint).values_list("code", flat=True))
    score, risk = risk_of(codes)
    Complaint.objects.filter(pk=complaint.pk).update(risk=risk, risk_score=score)
    complaint.risk, complaint.risk_score = risk, score
    if flags:
        record_event(
            complaint=complaint,
            kind="flagged",
            at=now,
            actor_label="system",
            data={"flags": sorted(flags), "risk": risk, "score": score},
        )
    return FlagResult(codes=codes, score=score, risk=risk)


def _link_recent(*, complaint: Complaint, now: datetime) -> tuple[list[int], list[int]]:
    """Link the customer's outages, reports and work orders since the link window began;
    returns the outage and work order ids linked."""
    since = now - LINK_WINDOW
    sp_id = complaint.service_point_id
    if sp_id is None:
        return [], []
    outage_ids = outage_selectors.complaint_outage_ids_for_service_point(
        service_point_id=sp_id, since=since
    )
    report_ids = outage_selectors.complaint_report_ids_for_service_point(
        service_point_id=sp_id, since=since
    )
    order_ids = work_selectors.complaint_work_order_ids(
        service_point_id=sp_id, outage_ids=outage_ids, since=since
    )
    links = [ComplaintLink(complaint=complaint, kind="outage", outage_id=i) for i in outage_ids]
    links += [ComplaintLink(complaint=complaint, kind="report", report_id=i) for i in report_ids]
    links += [
        ComplaintLink(complaint=complaint, kind="work_order", work_order_id=i) for i in order_ids
    ]
    ComplaintLink.objects.bulk_create(links, ignore_conflicts=True)
    if links:
        record_event(
            complaint=complaint,
            kind="linked",
            at=now,
            actor_label="system",
            data={"outages": outage_ids, "reports": report_ids, "work_orders": order_ids},
        )
    return outage_ids, order_ids


def _risk_flags(
    *, complaint: Complaint, now: datetime, outage_ids: list[int], order_ids: list[int]
) -> dict[str, dict[str, object]]:
    """The risk flags this complaint raises, with what each is based on."""
    flags: dict[str, dict[str, object]] = {}
    C = ComplaintFlag.Code
    sp_id = complaint.service_point_id
    if sp_id is not None or complaint.phone:
        earlier = Complaint.objects.filter(received_at__gte=now - REPEAT_WINDOW).exclude(
            pk=complaint.pk
        )
        earlier = (
            earlier.filter(service_point_id=sp_id)
            if sp_id is not None
            else earlier.filter(phone=complaint.phone)
        )
        refs = list(earlier.order_by("received_at").values_list("reference", flat=True)[:10])
        if refs:
            flags[C.REPEAT] = {"earlier": refs}
    if outage_ids:
        complained = sorted(
            set(
                ComplaintLink.objects.filter(outage_id__in=outage_ids)
                .exclude(complaint=complaint)
                .values_list("outage_id", flat=True)
            )
        )
        if complained:
            flags[C.OUTAGE_COMPLAINED] = {"outages": complained}
    if sp_id is not None:
        level = frequent.frequent_level(service_point_id=sp_id, now=now)
        if level == frequent.FREQUENT:
            flags[C.FREQUENT_OUTAGE] = {"level": "frequent"}
        breached = work_selectors.complaint_breached_order_ids(order_ids=order_ids)
        if breached:
            flags[C.SLA_BREACH] = {"work_orders": breached}
        if complaint.service_point and complaint.service_point.is_important:
            flags[C.IMPORTANT] = {}
    if complaint.channel == Complaint.Channel.PUBLIC_OPINION:
        flags[C.PUBLIC_OPINION] = {}
    return flags
