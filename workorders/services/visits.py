"""After the work: the customer's return visit (and reopening the work when the power is
still off), and the console's outage actions (ETR, confirmation) through the outages services.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, TransitionNotAllowed
from grids.models import ServicePoint
from outages import selectors as outage_selectors
from outages import services as outage_services
from outages.models import Outage, Priority
from workorders.models import ReturnVisit, WorkOrder, WorkOrderEvent

from . import common
from .lifecycle import work_order_transition
from .raising import _live_repair_order, work_order_create

Status = WorkOrder.Status
Kind = WorkOrder.Kind


def _visit_service_point(order: WorkOrder, given: ServicePoint | None) -> ServicePoint | None:
    if given is not None:
        return given
    if order.service_point_id is not None:
        return order.service_point
    report = (
        order.reports.filter(service_point__isnull=False).select_related("service_point").first()
    )
    return report.service_point if report else None


@transaction.atomic
def work_order_return_visit(
    *,
    order: WorkOrder,
    actor: User | None,
    restored_confirmed: bool,
    satisfaction: int | None = None,
    note: str = "",
    service_point: ServicePoint | None = None,
    at: datetime | None = None,
) -> ReturnVisit:
    """Record the customer's answer when called back after completion.

    completed → return_visit, with the answer and satisfaction (1–5). Confirmed: the order is
    closed (``WORKORDERS_CLOSE_ON_CONFIRMED_VISIT``). Still off: the order is closed and the
    work reopens as a *new* order (``reopened_from`` this one, one priority step more urgent),
    and the outage side follows its own rules:

    * the outage is restored → a nested single-premise outage is opened under it for this
      customer (``outage_open_nested``, confirmed: the customer said so), and the new order
      repairs that child outage;
    * the customer is still out in an active outage (partially restored, or still counted in
      the tree) → the new order repairs that outage (it cannot go back to crew_dispatched);
    * no outage, or it is closed → a single-premise order at the customer's address.
    """
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        message = _("满意度为 1 到 5 分。")
        raise DomainError(message, code="invalid", fields={"satisfaction": [message]})
    now = timezone.now()
    at = common.check_time(at)
    work_order_transition(
        order=order,
        to=Status.RETURN_VISIT,
        actor=actor,
        at=at,
        reason=note,
        data={"restored_confirmed": restored_confirmed, "satisfaction": satisfaction},
    )
    sp = _visit_service_point(order, service_point)
    visit = ReturnVisit(
        order=order,
        restored_confirmed=restored_confirmed,
        satisfaction=satisfaction,
        note=note,
        service_point=sp,
        agent=actor,
        at=at,
    )
    visit.full_clean()
    visit.save()
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.RETURN_VISIT,
        at=now,
        actor=actor,
        reason=note,
        data={"restored_confirmed": restored_confirmed, "satisfaction": satisfaction},
    )
    if restored_confirmed:
        if common.conf().close_on_confirmed_visit:
            work_order_transition(order=order, to=Status.CLOSED, actor=actor)
        return visit
    work_order_transition(
        order=order, to=Status.CLOSED, actor=actor, reason=_("回访仍无电，已重新派单")
    )
    visit.follow_up = _reopen(order, sp, actor=actor, note=note)
    visit.save(update_fields=["follow_up"])
    return visit


def _reopen(
    order: WorkOrder, sp: ServicePoint | None, *, actor: User | None, note: str
) -> WorkOrder:
    target: Outage | None = None
    if order.outage_id is not None:
        outage = outage_selectors.outage_get(outage_id=order.outage_id)
        if outage.status == Outage.Status.RESTORED and sp is not None:
            try:
                target = outage_services.outage_open_nested(
                    parent=outage,
                    service_point=sp,
                    actor=actor,
                    status=Outage.Status.CONFIRMED,
                    source=Outage.Source.DISPATCHER,
                    reason=_("工单 #%(id)s 回访仍无电") % {"id": order.pk},
                )
            except Conflict:
                # Still counted out in the tree: the work goes to the outage that has them.
                target = outage_selectors.outage_for_service_point(service_point=sp)
        elif outage.status in Outage.ACTIVE:
            target = outage
    priority = max(Priority.URGENT, order.priority - 1)
    description = note or _("回访用户仍无电（原工单 #%(id)s）") % {"id": order.pk}
    if target is not None:
        existing = _live_repair_order(target.pk)
        if existing is not None:
            common.record_event(
                order=existing,
                kind=WorkOrderEvent.Kind.NOTE,
                at=timezone.now(),
                actor=actor,
                reason=description,
                data={"reopened_from": order.pk},
            )
            return existing
        return work_order_create(
            kind=Kind.OUTAGE_REPAIR,
            title=_("复查抢修：%(title)s") % {"title": order.title},
            actor=actor,
            priority=priority,
            description=description,
            service_point=sp if target.service_point_id else None,
            lat=order.lat if not target.service_point_id else None,
            lng=order.lng if not target.service_point_id else None,
            grid=order.grid,
            outage=target,
            skill_needed=order.skill_needed,
            reopened_from=order,
        )
    kind = order.kind if order.kind != Kind.OUTAGE_REPAIR else Kind.PREMISE_REPAIR
    return work_order_create(
        kind=kind,
        title=_("复查抢修：%(title)s") % {"title": order.title},
        actor=actor,
        priority=priority,
        description=description,
        service_point=sp,
        lat=None if sp else order.lat,
        lng=None if sp else order.lng,
        grid=order.grid,
        skill_needed=order.skill_needed,
        reopened_from=order,
    )


# --- the outage side, for the console ------------------------------------------------------------


def _order_outage(order: WorkOrder) -> Outage:
    if order.outage_id is None:
        raise Conflict(_("该工单没有关联停电事件。"), code="no_outage")
    return outage_selectors.outage_get(outage_id=order.outage_id)


def work_order_set_outage_etr(
    *, order: WorkOrder, etr: datetime | None, actor: User | None, reason: str = ""
) -> Outage:
    """Set the ETR of the order's outage (through ``outages.services.outage_set_etr``)."""
    return outage_services.outage_set_etr(
        outage=_order_outage(order), etr=etr, actor=actor, reason=reason
    )


def work_order_confirm_outage(*, order: WorkOrder, actor: User | None, reason: str = "") -> Outage:
    """Confirm the order's predicted outage (through ``outages.services.outage_transition``)."""
    outage = _order_outage(order)
    if outage.status != Outage.Status.PREDICTED:
        raise TransitionNotAllowed(outage.status, Outage.Status.CONFIRMED)
    return outage_services.outage_transition(
        outage=outage, to=Outage.Status.CONFIRMED, actor=actor, reason=reason
    )
