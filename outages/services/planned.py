"""Planned and temporary outages: creation under the notice rules, the notice, start and end.

Notice rules (per outage type, editable in the admin): planned outages must be announced at
least 7 days ahead to every customer; temporary ones at least 24 hours ahead when important
customers are affected; the others need no notice. A dispatcher may go below the period with
a written reason, which is recorded on the outage and in its timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import Device
from outages import events
from outages.models import (
    Interruption,
    Outage,
    OutageCategory,
    OutageCause,
    OutageEvent,
    OutageType,
)

from . import common
from .lifecycle import create_outage_row, transition

Status = Outage.Status


def _notice_applies(type: OutageType, *, has_important: bool) -> bool:
    if type.notice_period is None or type.notice_rule == OutageType.NoticeRule.NONE:
        return False
    if type.notice_rule == OutageType.NoticeRule.IMPORTANT_CUSTOMERS:
        return has_important
    return True


def _notice_error(type: OutageType, lead: timedelta) -> DomainError:
    hours = (type.notice_period or timedelta()).total_seconds() / 3600
    period = (
        _("%(days)d 天") % {"days": hours // 24}
        if hours % 24 == 0
        else _("%(h)d 小时") % {"h": hours}
    )
    message = _(
        "%(type)s需至少提前 %(period)s 通知用户（当前仅提前 %(lead).1f 小时）；"
        "如确需执行，请填写原因（override_reason）。"
    ) % {"type": type.name, "period": period, "lead": max(lead.total_seconds(), 0) / 3600}
    return DomainError(
        message,
        code="notice_too_short",
        fields={
            "planned_start_at": [message],
            "override_reason": [_("未满足提前通知要求时必填。")],
        },
    )


def _check_planned_input(
    *,
    type: OutageType,
    devices: Sequence[Device],
    planned_start_at: datetime,
    planned_end_at: datetime,
    description: str,
    now: datetime,
) -> None:
    """``DomainError`` (code ``invalid``) naming every field of a planned outage that is wrong."""
    errors: dict[str, list[str]] = {}
    if type.category.code not in OutageCategory.SCHEDULED_CODES:
        errors["type"] = [_("故障停电不能作为计划停电创建。")]
    if not devices:
        errors["devices"] = [_("请至少选择一个停电设备。")]
    if planned_start_at <= now:
        errors["planned_start_at"] = [_("计划开始时间必须晚于当前时间。")]
    if planned_end_at <= planned_start_at:
        errors["planned_end_at"] = [_("计划结束时间必须晚于开始时间。")]
    if not description.strip():
        errors["description"] = [_("请填写停电原因及说明。")]
    if errors:
        raise DomainError(_("计划停电信息有误。"), code="invalid", fields=errors)


@transaction.atomic
def planned_outage_create(
    *,
    type: OutageType,
    devices: Sequence[Device],
    planned_start_at: datetime,
    planned_end_at: datetime,
    description: str,
    actor: User | None,
    override_reason: str = "",
    cause: OutageCause | None = None,
    actor_label: str = "",
) -> Outage:
    """Schedule a planned / temporary / administrative outage on ``devices``.

    Checks the type's notice rule against the time left before ``planned_start_at``: below
    the notice period the outage is refused (``DomainError`` code ``notice_too_short``, 400)
    unless ``override_reason`` is given, which is recorded. The customers below the devices
    are stored now as "to be interrupted" (their interruptions start when the outage does).
    Status scheduled; publishes ``outage.scheduled``.
    """
    now = timezone.now()
    _check_planned_input(
        type=type,
        devices=devices,
        planned_start_at=planned_start_at,
        planned_end_at=planned_end_at,
        description=description,
        now=now,
    )

    override_reason = override_reason.strip()
    lead = planned_start_at - now
    has_important = any(
        common.scope_service_points(device=d).filter(is_important=True).exists() for d in devices
    )
    short_notice = (
        _notice_applies(type, has_important=has_important)
        and type.notice_period is not None
        and lead < type.notice_period
    )
    if short_notice and not override_reason:
        raise _notice_error(type, lead)

    outage = create_outage_row(
        type=type,
        device=devices[0],
        extra_devices=devices[1:],
        status=Status.SCHEDULED,
        source=Outage.Source.PLANNED,
        actor=actor,
        actor_label=actor_label,
        started_at=None,
        cause=cause,
        description=description,
        planned_start_at=planned_start_at,
        planned_end_at=planned_end_at,
        notice_override_reason=override_reason if short_notice else "",
    )
    for device in devices:
        common.insert_interruptions(
            outage=outage,
            service_points=common.scope_service_points(device=device),
            started_at=None,
        )
    common.after_scope_change(outage)
    if short_notice:
        common.record_event(
            outage=outage,
            kind=OutageEvent.Kind.NOTICE_OVERRIDDEN,
            at=now,
            actor=actor,
            actor_label=actor_label,
            reason=override_reason,
            data={"lead_hours": round(lead.total_seconds() / 3600, 2), "important": has_important},
        )
    outage.refresh_from_db()
    events.publish(events.OUTAGE_SCHEDULED, outage_id=outage.pk)
    common.publish_changed(outage)
    return outage


@transaction.atomic
def planned_outage_publish_notice(
    *,
    outage: Outage,
    actor: User | None,
    override_reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Publish the notice of a scheduled outage: scheduled → notified, ``notice_published_at``.

    The notice period counts from now: if too little time is left, an override reason is
    needed (the one given at creation counts). Publishes ``outage.notice_published``.
    """
    if outage.planned_start_at is None:
        raise DomainError(_("只有计划停电可以发布公告。"), code="not_planned")
    now = timezone.now()
    lead = outage.planned_start_at - now
    override_reason = override_reason.strip()
    has_important = Interruption.objects.filter(
        outage=outage, service_point__is_important=True
    ).exists()
    type = outage.type
    short_notice = (
        _notice_applies(type, has_important=has_important)
        and type.notice_period is not None
        and lead < type.notice_period
    )
    extra: dict[str, object] = {"notice_published_at": now}
    if short_notice:
        if not (override_reason or outage.notice_override_reason):
            raise _notice_error(type, lead)
        if override_reason:
            extra["notice_override_reason"] = override_reason
    updated = transition(
        outage=outage,
        to=Status.NOTIFIED,
        actor=actor,
        actor_label=actor_label,
        reason=override_reason,
        at=now,
        extra=extra,
    )
    common.record_event(
        outage=updated,
        kind=OutageEvent.Kind.NOTICE_PUBLISHED,
        at=now,
        actor=actor,
        actor_label=actor_label,
        reason=override_reason,
        data={
            "planned_start_at": outage.planned_start_at.isoformat(),
            "planned_end_at": outage.planned_end_at.isoformat() if outage.planned_end_at else None,
            "customers": updated.customers_affected,
            "short_notice": short_notice,
        },
    )
    events.publish(events.OUTAGE_NOTICE_PUBLISHED, outage_id=updated.pk)
    return updated


@transaction.atomic
def planned_outage_start(
    *,
    outage: Outage,
    actor: User | None = None,
    at: datetime | None = None,
    actor_label: str = "",
) -> Outage:
    """Start a scheduled or notified outage: → in_progress, its interruptions start at ``at``.

    Compare-and-set, so the beat task may run twice: the second run gets ``ConcurrentUpdate``
    or ``TransitionNotAllowed`` and changes nothing.
    """
    if outage.planned_start_at is None:
        raise DomainError(_("只有计划停电可以按计划开始。"), code="not_planned")
    reason = "" if outage.notice_published_at else _("公告未发布")
    return transition(
        outage=outage,
        to=Status.IN_PROGRESS,
        actor=actor,
        actor_label=actor_label or "beat",
        reason=reason,
        at=at,
    )
