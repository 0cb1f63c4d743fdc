"""The work-order lifecycle: the one status-changing service, cancel, merge, close, and the
reactions to outage events.

Progress moves the linked outage through ``outages.services`` only (see ``common``): a crew
dispatched → ``crew_dispatched``; on site → ``crew_on_site``; the crew withdrawn before
arriving → back to ``confirmed``. Only the outage's own repair order moves it. The crew's
steps are in ``progress``, raising orders in ``raising``, return visits in ``visits``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    TransitionNotAllowed,
)
from grids.models import Crew
from outages import selectors as outage_selectors
from workorders.models import DispatchRefusal, WorkOrder, WorkOrderEvent

from . import common, sla

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Kind = WorkOrder.Kind


# --- the one status change -----------------------------------------------------------------------


@transaction.atomic
def work_order_transition(
    *,
    order: WorkOrder,
    to: str,
    actor: User | None,
    actor_label: str = "",
    reason: str = "",
    at: datetime | None = None,
    crew: Crew | None = None,
    merged_into: WorkOrder | None = None,
    refusal: str | None = None,
    redispatch: bool = True,
    data: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Move ``order`` to status ``to``: the only way a work order's status changes.

    Checks ``ALLOWED_TRANSITIONS`` from the status the caller saw, takes the locks (crews →
    outage → order), then compare-and-set on that status and ``version``
    (``ConcurrentUpdate`` if somebody changed the order meanwhile), sets the columns that
    follow from the new status, writes the timeline row, and in the same transaction:

    * dispatched / claimed (``crew`` required): the outage → crew_dispatched;
    * on site: the restoration clock starts, the outage → crew_on_site;
    * rejected (back to dispatch): ``refusal`` remembers the crew, the outage → confirmed when
      no other crew is on it, and a new dispatch is asked for unless ``redispatch=False``;
    * created (out of the pool): a new dispatch is asked for;
    * cancelled / merged before arrival: the outage → confirmed as for rejected;
    * merged (``merged_into`` required): the order's reports move to the target;
    * every change: the crews' displayed status.

    ``expected_version``: the version the client saw (the console sends it); a stale one
    fails the compare-and-set (``ConcurrentUpdate``, 409) instead of overwriting.
    """
    _check_request(order, to, crew=crew, merged_into=merged_into)
    old_crew = order.crew_id
    common.lock_for(order, crews=[crew.pk if crew else None])
    fields = _status_columns(order, to, at=at, crew=crew, merged_into=merged_into)
    fields = {**(extra or {}), **fields}
    at = _crew_step_columns(order, to, at=at, fields=fields)
    common.transition(
        order=order,
        to=to,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        at=at,
        extra=fields,
        data=data,
        expected_version=expected_version,
    )
    _follow_on(
        order,
        to,
        old_crew=old_crew,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        at=at,
        merged_into=merged_into,
        refusal=refusal,
        redispatch=redispatch,
    )
    return order


def _check_request(
    order: WorkOrder, to: str, *, crew: Crew | None, merged_into: WorkOrder | None
) -> None:
    """Refuse a change the order's status does not allow, or one that lacks its argument."""
    if to not in WorkOrder.ALLOWED_TRANSITIONS.get(order.status, ()):
        raise TransitionNotAllowed(order.status, to)
    if to in (Status.DISPATCHED, Status.CLAIMED) and crew is None:
        raise DomainError(_("派单需要指定班组。"), code="invalid", fields={"crew": [_("必填。")]})
    if to == Status.MERGED and merged_into is None:
        raise DomainError(
            _("合并需要指定目标工单。"), code="invalid", fields={"into": [_("必填。")]}
        )


def _crew_step_columns(
    order: WorkOrder, to: str, *, at: datetime | None, fields: dict[str, Any]
) -> datetime | None:
    """The crew's own steps: check their time (not before dispatch) and add the columns that
    follow from it to ``fields`` (the restoration clock on site; ``restored_at`` when a repair
    completes without an explicit restore step). Returns the time to record."""
    if to not in (Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE, Status.COMPLETED):
        return at
    checked = common.check_time(at, not_before=order.dispatched_at)
    if to == Status.ON_SITE:
        fields.update(sla.restoration_clock(order, arrived_at=checked))
    if to == Status.COMPLETED and order.restored_at is None and order.kind in WorkOrder.SLA_KINDS:
        # A repair completed without an explicit restore step restored the premise then.
        fields["restored_at"] = checked
    return checked


def _status_columns(
    order: WorkOrder,
    to: str,
    *,
    at: datetime | None,
    crew: Crew | None,
    merged_into: WorkOrder | None,
) -> dict[str, Any]:
    """The columns the new status sets by itself (crew, claim time, merge target)."""
    fields: dict[str, Any] = {}
    if to in (Status.DISPATCHED, Status.CLAIMED):
        fields["crew"] = crew
        if to == Status.CLAIMED:
            fields["claimed_at"] = timezone.now()
    elif to == Status.MERGED:
        fields["merged_into"] = merged_into
    return fields


def _follow_on(
    order: WorkOrder,
    to: str,
    *,
    old_crew: int | None,
    actor: User | None,
    actor_label: str,
    reason: str,
    at: datetime | None,
    merged_into: WorkOrder | None,
    refusal: str | None,
    redispatch: bool,
) -> None:
    """What the transition changes beside the order, in the same transaction: the outage's
    repair state, refusals, new dispatch requests, merged reports, the crews' status."""
    label = common.label_for(actor, actor_label)
    if to in (Status.DISPATCHED, Status.CLAIMED):
        common.outage_crew_dispatched(order, actor=actor, label=label)
    elif to == Status.ON_SITE:
        common.outage_crew_on_site(order, actor=actor, label=label, at=at)
    elif to == Status.REJECTED:
        if refusal and old_crew:
            DispatchRefusal.objects.get_or_create(
                order=order, crew_id=old_crew, reason=refusal, defaults={"at": timezone.now()}
            )
        common.outage_crew_withdrawn(order, actor=actor, label=label)
        if redispatch:
            common.request_dispatch(order)
    elif to == Status.CREATED:
        common.request_dispatch(order)
    elif to in (Status.CANCELLED, Status.MERGED) and old_crew is not None:
        common.outage_crew_withdrawn(order, actor=actor, label=label)
    if to == Status.MERGED and merged_into is not None:
        _merge_reports(order, merged_into, actor=actor, actor_label=actor_label, reason=reason)
    common.crew_refresh_status([old_crew, order.crew_id])


def _merge_reports(
    order: WorkOrder, target: WorkOrder, *, actor: User | None, actor_label: str, reason: str
) -> None:
    reports = list(order.reports.all())
    if reports:
        target.reports.add(*reports)
    common.record_event(
        order=target,
        kind=WorkOrderEvent.Kind.MERGED_IN,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={"order": order.pk, "reports": [r.pk for r in reports]},
    )


# --- dispatcher and agent actions ----------------------------------------------------------------


@transaction.atomic
def work_order_cancel(
    *,
    order: WorkOrder,
    actor: User | None,
    reason: str,
    actor_label: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Cancel an open order that is not finished (a reason is required)."""
    if not reason.strip():
        message = _("请填写取消原因。")
        raise DomainError(message, code="invalid", fields={"reason": [message]})
    return work_order_transition(
        order=order,
        to=Status.CANCELLED,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        expected_version=expected_version,
    )


@transaction.atomic
def work_order_merge(
    *,
    order: WorkOrder,
    into: WorkOrder,
    actor: User | None,
    reason: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Merge ``order`` into ``into`` (a duplicate job): it keeps its reports, which are also
    linked to the target, and leaves the dispatch queue. Both must be open; a merged or
    finished order cannot be a target, and an order cannot be merged into itself."""
    if into.pk == order.pk:
        message = _("不能合并到自身。")
        raise DomainError(message, code="invalid", fields={"into": [message]})
    target = WorkOrder.objects.filter(pk=into.pk).first()
    if target is None or target.status in WorkOrder.TERMINAL:
        message = _("目标工单已结束，不能合并。")
        raise Conflict(message, code="target_closed", fields={"into": [message]})
    return work_order_transition(
        order=order,
        to=Status.MERGED,
        actor=actor,
        reason=reason,
        merged_into=target,
        data={"into": target.pk},
        expected_version=expected_version,
    )


@transaction.atomic
def work_order_close(
    *,
    order: WorkOrder,
    actor: User | None,
    reason: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Close a completed order (with or without a return visit)."""
    return work_order_transition(
        order=order,
        to=Status.CLOSED,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
    )


# --- reacting to outage events -------------------------------------------------------------------


def work_orders_outage_cancelled(*, outage_id: int) -> list[int]:
    """The outage was cancelled (a false alarm): cancel its repair orders not yet finished.
    Danger orders stay (the hazard report stands on its own)."""
    cancelled: list[int] = []
    for order in WorkOrder.objects.filter(
        outage_id=outage_id,
        kind=Kind.OUTAGE_REPAIR,
        status__in=WorkOrder.OPEN - WorkOrder.DONE - {Status.ON_SITE},
    ):
        try:
            work_order_cancel(
                order=order, actor=None, actor_label="system", reason=_("停电事件已取消")
            )
            cancelled.append(order.pk)
        except (ConcurrentUpdate, TransitionNotAllowed):
            logger.info("outage %s cancelled: order %s changed meanwhile", outage_id, order.pk)
    return cancelled


@transaction.atomic
def work_orders_outage_restored(*, outage_id: int) -> list[int]:
    """Every customer of the outage has supply again (remote switching, or the crew): note it
    on its open repair orders and stop their restoration clock at the outage's time."""
    restored_at = outage_selectors.outage_get(outage_id=outage_id).restored_at
    if restored_at is None:
        return []
    orders = list(
        WorkOrder.objects.filter(
            outage_id=outage_id,
            kind=Kind.OUTAGE_REPAIR,
            status__in=WorkOrder.OPEN,
            restored_at__isnull=True,
        )
    )
    for order in orders:
        WorkOrder.objects.filter(pk=order.pk, restored_at__isnull=True).update(
            restored_at=restored_at
        )
        common.record_event(
            order=order,
            kind=WorkOrderEvent.Kind.OUTAGE_NOTE,
            at=timezone.now(),
            actor_label="system",
            reason=_("停电事件已全部恢复供电"),
            data={"outage": outage_id, "restored_at": restored_at.isoformat()},
        )
    return [o.pk for o in orders]
