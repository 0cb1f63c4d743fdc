"""The outage lifecycle: creation, the one status-changing service, ETR, cause, description."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    TransitionNotAllowed,
)
from grids.models import Device, ServicePoint
from outages import events
from outages.models import Interruption, Outage, OutageCause, OutageEvent, OutageType

from . import common

Status = Outage.Status


def create_outage_row(
    *,
    type: OutageType,
    device: Device,
    status: str,
    source: str,
    actor: User | None,
    actor_label: str = "",
    started_at: datetime | None,
    service_point: ServicePoint | None = None,
    extra_devices: Sequence[Device] = (),
    parent: Outage | None = None,
    cause: OutageCause | None = None,
    description: str = "",
    planned_start_at: datetime | None = None,
    planned_end_at: datetime | None = None,
    notice_override_reason: str = "",
    reason: str = "",
) -> Outage:
    """Validate and save a new outage with its "created" timeline line; no interruptions yet.

    Internal to the services package (callers add the scope and publish the events).
    """
    outage = Outage(
        type=type,
        status=status,
        source=source,
        device=device,
        service_point=service_point,
        cause=cause,
        parent=parent,
        root_id=(parent.root_id or parent.pk) if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
        started_at=started_at,
        description=description,
        planned_start_at=planned_start_at,
        planned_end_at=planned_end_at,
        notice_override_reason=notice_override_reason,
        created_by=actor,
    )
    outage.full_clean()
    outage.save()
    extras = [d for d in extra_devices if d.pk != device.pk]
    if extras:
        outage.extra_devices.add(*extras)
    common.record_event(
        outage=outage,
        kind=OutageEvent.Kind.CREATED,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        to_status=status,
        data={
            "source": source,
            "device": device.code,
            "service_point": service_point.pk if service_point else None,
            "parent": parent.pk if parent else None,
        },
    )
    return outage


@transaction.atomic
def outage_create(
    *,
    type: OutageType,
    device: Device,
    source: str,
    actor: User | None,
    actor_label: str = "",
    status: str = Status.PREDICTED,
    started_at: datetime | None = None,
    service_point: ServicePoint | None = None,
    extra_devices: Sequence[Device] = (),
    cause: OutageCause | None = None,
    description: str = "",
    etr: datetime | None = None,
    reason: str = "",
) -> Outage:
    """Declare an unplanned outage (predicted or confirmed) and compute its customers.

    The customers are the service points below ``device`` and ``extra_devices`` at this
    moment (for a tripped breaker: what it supplies when closed), or ``service_point`` alone
    for a single-premise outage. Publishes ``outage.predicted`` or ``outage.confirmed``.
    Planned and temporary outages go through ``planned_outage_create``.
    """
    if status not in (Status.PREDICTED, Status.CONFIRMED):
        raise DomainError(_("新的故障停电只能是研判中或已确认状态。"), code="invalid")
    started_at = started_at or timezone.now()
    common.check_not_future(started_at, field="started_at")
    outage = create_outage_row(
        type=type,
        device=device,
        status=status,
        source=source,
        actor=actor,
        actor_label=actor_label,
        started_at=started_at,
        service_point=service_point,
        extra_devices=extra_devices,
        cause=cause,
        description=description,
        reason=reason,
    )
    for dev in [device, *extra_devices]:
        common.insert_interruptions(
            outage=outage,
            service_points=common.scope_service_points(device=dev, service_point=service_point),
            started_at=started_at,
        )
    common.after_scope_change(outage)
    if etr is not None:
        common.write_etr(outage=outage, etr=etr, actor=actor, actor_label=actor_label)
    outage.refresh_from_db()
    events.publish(
        events.OUTAGE_PREDICTED if status == Status.PREDICTED else events.OUTAGE_CONFIRMED,
        outage_id=outage.pk,
    )
    common.publish_changed(outage)
    return outage


@transaction.atomic
def outage_transition(
    *,
    outage: Outage,
    to: str,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    actor_label: str = "",
) -> Outage:
    """Move ``outage`` to status ``to``: the only way an outage's status changes.

    Checks ``ALLOWED_TRANSITIONS`` from the status the caller saw, then compare-and-set on that
    status: if somebody changed it meanwhile, ``ConcurrentUpdate``. In the same transaction it
    sets the timestamps (``started_at`` on in_progress, ``restored_at``, ``closed_at``), starts
    or ends the interruptions (in_progress starts them; restored and cancelled end those still
    active at ``at``), writes the timeline row and publishes ``outage.status_changed`` (plus
    ``outage.confirmed`` / ``outage.restored``) and ``outage.changed``. ``at`` defaults to now.
    """
    return transition(
        outage=outage, to=to, actor=actor, reason=reason, at=at, actor_label=actor_label
    )


def transition(
    *,
    outage: Outage,
    to: str,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    actor_label: str = "",
    extra: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Outage:
    """``outage_transition`` with ``extra`` fields set in the same compare-and-set update.

    Internal to the services package; the caller's transaction is used.
    """
    current = outage.status
    if to not in Status.values or to not in Outage.ALLOWED_TRANSITIONS.get(current, ()):
        raise TransitionNotAllowed(current, to)
    now = timezone.now()
    at = at or now
    common.check_not_future(at)
    updates: dict[str, Any] = {"status": to, **(extra or {})}
    if to == Status.IN_PROGRESS:
        updates["started_at"] = at
    elif to == Status.RESTORED:
        if outage.started_at is not None and at < outage.started_at:
            message = _("恢复时间不能早于停电开始时间。")
            raise DomainError(message, code="invalid", fields={"at": [message]})
        updates["restored_at"] = at
    elif to in (Status.CLOSED, Status.CANCELLED):
        updates["closed_at"] = max(at, outage.restored_at or at)
    elif to == Status.PARTIALLY_RESTORED:
        rows = Interruption.objects.filter(outage=outage, started_at__isnull=False)
        if not (
            rows.filter(ended_at__isnull=False).exists() and rows.filter(ended_at=None).exists()
        ):
            # Partial restoration is a fact about interruptions, recorded by restoring a device.
            raise TransitionNotAllowed(current, to)
    rows_changed = Outage.objects.filter(pk=outage.pk, status=current).update(
        version=F("version") + 1, updated_at=now, **updates
    )
    if rows_changed != 1:
        raise ConcurrentUpdate(outage.pk)

    scope_changed = False
    if to == Status.IN_PROGRESS:
        scope_changed = common.start_interruptions(outage=outage, at=at) > 0
    elif to in (Status.RESTORED, Status.CANCELLED):
        scope_changed = common.end_interruptions(common.active_rows(outage), at) > 0
    event = common.record_event(
        outage=outage,
        kind=OutageEvent.Kind.STATUS_CHANGED,
        at=at,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        from_status=current,
        to_status=to,
        data=data,
    )
    if scope_changed:
        common.recount(outage)
        if to == Status.IN_PROGRESS:
            common.refresh_area(outage)
    outage.refresh_from_db()
    events.publish(
        events.OUTAGE_STATUS_CHANGED,
        outage_id=outage.pk,
        from_status=current,
        to_status=to,
        event_id=event.pk,
    )
    if to == Status.CONFIRMED:
        events.publish(events.OUTAGE_CONFIRMED, outage_id=outage.pk)
    elif to == Status.RESTORED:
        events.publish(events.OUTAGE_RESTORED, outage_id=outage.pk)
    common.publish_changed(outage)
    return outage


@transaction.atomic
def outage_restore(
    *,
    outage: Outage,
    actor: User | None,
    at: datetime | None = None,
    reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Restore every customer of ``outage`` at ``at`` (default now): status → restored.

    Compare-and-set like every transition: a stale copy gets ``ConcurrentUpdate``.
    """
    return transition(
        outage=outage,
        to=Status.RESTORED,
        actor=actor,
        reason=reason,
        at=at,
        actor_label=actor_label,
    )


@transaction.atomic
def outage_set_etr(
    *,
    outage: Outage,
    etr: datetime | None,
    actor: User | None,
    reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Set (or clear, with ``None``) the estimated restoration time of an active outage.

    Records an ``EtrChange`` row and a timeline line; publishes ``outage.etr_changed``. An ETR
    in the past is refused (``DomainError`` code ``etr_in_past``); setting the same ETR again
    changes nothing.
    """
    locked = common.outage_lock(outage)
    if locked.status not in Outage.ACTIVE:
        raise Conflict(
            _("只有停电中的事件可以设置预计恢复时间（当前状态：%(status)s）。")
            % {"status": locked.get_status_display()},
            code="not_active",
        )
    if common.write_etr(
        outage=locked, etr=etr, actor=actor, actor_label=actor_label, reason=reason
    ):
        locked.refresh_from_db()
        common.publish_changed(locked)
    return locked


@transaction.atomic
def outage_set_cause(
    *,
    outage: Outage,
    cause: OutageCause | None,
    actor: User | None,
    reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Record (or clear) the cause of ``outage``, with a timeline line."""
    locked = common.outage_lock(outage)
    if locked.cause_id == (cause.pk if cause else None):
        return locked
    common.bump(locked.pk, cause=cause)
    common.record_event(
        outage=locked,
        kind=OutageEvent.Kind.CAUSE_SET,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={
            "old": locked.cause.code if locked.cause else None,
            "new": cause.code if cause else None,
        },
    )
    locked.refresh_from_db()
    common.publish_changed(locked)
    return locked


@transaction.atomic
def outage_set_description(
    *,
    outage: Outage,
    description: str,
    actor: User | None,
    actor_label: str = "",
) -> Outage:
    """Change the public description of ``outage``, with a timeline line."""
    locked = common.outage_lock(outage)
    if locked.description == description:
        return locked
    common.bump(locked.pk, description=description)
    common.record_event(
        outage=locked,
        kind=OutageEvent.Kind.DESCRIPTION_CHANGED,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        data={"old": locked.description, "new": description},
    )
    locked.refresh_from_db()
    common.publish_changed(locked)
    return locked
