"""The crew's progress on an order: accept, reject, depart, arrive, findings, restore,
complete. Each step goes through ``work_order_transition`` or a compare-and-set edit, and
moves the linked outage through ``outages.services`` (restore: ``outage_restore_device`` for
part of it, ``outage_restore`` for all; findings: ``outage_set_cause``)."""

from __future__ import annotations

from collections.abc import Iterable
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
    PermissionDenied,
    TransitionNotAllowed,
)
from grids.models import Crew, Device
from outages import selectors as outage_selectors
from outages import services as outage_services
from outages.models import Outage, OutageCause
from workorders.models import DispatchRefusal, WorkOrder, WorkOrderEvent

from . import common
from .lifecycle import work_order_transition

Status = WorkOrder.Status


def crew_order_check(*, order: WorkOrder, crew: Crew) -> None:
    """The one rule of the crew app: a crew acts only on its own crew's orders (403)."""
    if order.crew_id != crew.pk:
        raise PermissionDenied(_("该工单不属于您的班组。"), code="not_your_order")


def _bump(order: WorkOrder, **fields: Any) -> None:
    """A compare-and-set edit that is not a status change (findings, restoration)."""
    now = timezone.now()
    rows = WorkOrder.objects.filter(pk=order.pk, status=order.status, version=order.version).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    if rows != 1:
        raise ConcurrentUpdate(order.pk)
    for name, value in fields.items():
        setattr(order, name, value)
    order.version += 1


@transaction.atomic
def work_order_accept(
    *, order: WorkOrder, crew: Crew, actor: User | None, at: datetime | None = None
) -> WorkOrder:
    """The crew accepts the order offered (dispatched) or claimed."""
    crew_order_check(order=order, crew=crew)
    return work_order_transition(order=order, to=Status.ACCEPTED, actor=actor, at=at)


@transaction.atomic
def work_order_reject(
    *, order: WorkOrder, crew: Crew, actor: User | None, reason: str = ""
) -> WorkOrder:
    """The crew refuses an order it has not accepted: back to dispatch, never offered to
    this crew again."""
    crew_order_check(order=order, crew=crew)
    if order.status not in WorkOrder.AWAITING_ACCEPT:
        raise TransitionNotAllowed(order.status, Status.REJECTED)
    return work_order_transition(
        order=order,
        to=Status.REJECTED,
        actor=actor,
        reason=reason or _("班组拒单"),
        refusal=DispatchRefusal.Reason.REJECTED,
        data={"cause": "rejected"},
    )


@transaction.atomic
def work_order_depart(
    *, order: WorkOrder, crew: Crew, actor: User | None, at: datetime | None = None
) -> WorkOrder:
    """The crew sets off (accepted → en route)."""
    crew_order_check(order=order, crew=crew)
    return work_order_transition(order=order, to=Status.EN_ROUTE, actor=actor, at=at)


@transaction.atomic
def work_order_arrive(
    *, order: WorkOrder, crew: Crew, actor: User | None, at: datetime | None = None
) -> WorkOrder:
    """The crew is on site: the restoration clock starts and the outage shows it."""
    crew_order_check(order=order, crew=crew)
    return work_order_transition(order=order, to=Status.ON_SITE, actor=actor, at=at)


@transaction.atomic
def work_order_record_findings(
    *,
    order: WorkOrder,
    crew: Crew,
    actor: User | None,
    cause: OutageCause | None = None,
    note: str = "",
    photo_ids: Iterable[int] = (),
    at: datetime | None = None,
) -> WorkOrder:
    """What the crew found on site: a cause code (also set on the outage it repairs), notes
    and photos (stored by ``work_order_photos_store`` in the same transaction)."""
    crew_order_check(order=order, crew=crew)
    if order.status != Status.ON_SITE:
        raise TransitionNotAllowed(order.status, "findings")
    at = common.check_time(at, not_before=order.arrived_at)
    common.lock_for(order)
    fields: dict[str, Any] = {}
    if cause is not None:
        fields["cause"] = cause
    if note:
        stamp = timezone.localtime(at).strftime("%H:%M")
        fields["findings"] = (order.findings + "\n" if order.findings else "") + f"[{stamp}] {note}"
    _bump(order, **fields)
    if cause is not None and common.moves_outage(order) and order.outage_id is not None:
        outage = outage_selectors.outage_get(outage_id=order.outage_id)
        outage_services.outage_set_cause(
            outage=outage,
            cause=cause,
            actor=actor,
            actor_label=common.label_for(actor),
            reason=_("工单 #%(id)s 现场勘查") % {"id": order.pk},
        )
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.FINDINGS,
        at=at,
        actor=actor,
        crew_id=crew.pk,
        reason=note,
        data={"cause": cause.code if cause else None, "photos": list(photo_ids)},
    )
    return order


@transaction.atomic
def work_order_restore(
    *,
    order: WorkOrder,
    crew: Crew,
    actor: User | None,
    device: Device | None = None,
    at: datetime | None = None,
    note: str = "",
) -> WorkOrder:
    """The crew restored supply: with ``device``, the customers below that device (partial
    restoration of the outage); without, every customer of the outage. An order without an
    outage (a single premise) just records the time. The outage moves through its own
    services (partially_restored / restored); the order stays on site until completed."""
    crew_order_check(order=order, crew=crew)
    if order.status != Status.ON_SITE:
        raise TransitionNotAllowed(order.status, "restore")
    at = common.check_time(at, not_before=order.arrived_at)
    common.lock_for(order)
    label = common.label_for(actor)
    reason = note or _("工单 #%(id)s 恢复送电") % {"id": order.pk}
    outage_status = None
    if common.moves_outage(order) and order.outage_id is not None:
        outage = outage_selectors.outage_get(outage_id=order.outage_id)
        if device is not None:
            outage = outage_services.outage_restore_device(
                outage=outage, device=device, actor=actor, at=at, reason=reason, actor_label=label
            )
        elif outage.status in Outage.ACTIVE:
            outage = outage_services.outage_restore(
                outage=outage, actor=actor, at=at, reason=reason, actor_label=label
            )
        outage_status = outage.status
        fully = outage.status not in Outage.ACTIVE
    else:
        if device is not None:
            message = _("该工单没有关联停电事件，不能按设备恢复。")
            raise DomainError(message, code="invalid", fields={"device": [message]})
        fully = True
    fields: dict[str, Any] = {}
    if fully and order.restored_at is None:
        fields["restored_at"] = at
    _bump(order, **fields)
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.RESTORED,
        at=at,
        actor=actor,
        crew_id=crew.pk,
        reason=note,
        data={
            "device": device.code if device else None,
            "outage_status": outage_status,
            "full": fully,
        },
    )
    return order


@transaction.atomic
def work_order_complete(
    *, order: WorkOrder, crew: Crew, actor: User | None, at: datetime | None = None, note: str = ""
) -> WorkOrder:
    """The crew has finished. The repair order of an outage whose customers are still out is
    refused (``Conflict`` ``outage_not_restored``): restore first, or ask the dispatcher."""
    crew_order_check(order=order, crew=crew)
    if (
        common.moves_outage(order)
        and order.outage_id is not None
        and outage_selectors.outage_get(outage_id=order.outage_id).is_active
    ):
        raise Conflict(_("停电事件仍有用户未恢复供电，请先上报恢复。"), code="outage_not_restored")
    return work_order_transition(order=order, to=Status.COMPLETED, actor=actor, at=at, reason=note)
