"""Service-commitment clocks: deadlines when an order is raised and when its crew arrives, and
the idempotent warning / breach marks the beat task sets.

Clocks (``SlaPolicy`` per area class; only ``WorkOrder.SLA_KINDS`` run them):

* *arrival*: from ``sla_started_at`` (the first call, or when the order was raised) to the
  crew's arrival; warning at ``warning_ratio`` of the period, breach at its end.
* *restoration*: from arrival to restoration (``restored_at``, else completion).

``sla_state`` only ever worsens (ok → warning → breached): it tells the console whether the
order has missed a commitment, whichever clock it was. Each mark is a conditional update on
its own timestamp column, so a second run of the check finds nothing to do and writes no
second timeline row. These marks do not bump ``version`` (they are not edits).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from workorders.models import SlaPolicy, WorkOrder, WorkOrderEvent
from workorders.selectors import sla_due_filter

from . import common

SlaState = WorkOrder.SlaState


def sla_policy_for(area_class: str) -> SlaPolicy | None:
    """The policy of ``area_class`` (None when an admin deleted it: no clock runs)."""
    return SlaPolicy.objects.filter(area_class=area_class).first()


def arrival_clock(*, kind: str, area_class: str, started_at: datetime) -> dict[str, Any]:
    """The SLA columns of a new order of ``kind`` in ``area_class`` whose clock starts at
    ``started_at`` (empty for kinds without commitments)."""
    if kind not in WorkOrder.SLA_KINDS:
        return {}
    policy = sla_policy_for(area_class)
    if policy is None:
        return {}
    period = timedelta(minutes=policy.arrive_minutes)
    return {
        "sla_policy": policy,
        "sla_started_at": started_at,
        "arrive_warn_at": started_at + period * policy.warning_ratio,
        "arrive_due_at": started_at + period,
    }


def restoration_clock(order: WorkOrder, *, arrived_at: datetime) -> dict[str, Any]:
    """The restoration deadline columns once the crew of ``order`` arrived at ``arrived_at``."""
    if order.kind not in WorkOrder.SLA_KINDS:
        return {}
    policy = (
        SlaPolicy.objects.filter(pk=order.sla_policy_id).first()
        if order.sla_policy_id
        else sla_policy_for(order.area_class)
    )
    if policy is None:
        return {}
    period = timedelta(minutes=policy.restore_minutes)
    return {
        "restore_warn_at": arrived_at + period * policy.warning_ratio,
        "restore_due_at": arrived_at + period,
    }


def _mark(
    order: WorkOrder, *, column: str, state: str, kind: str, now: datetime, data: dict
) -> bool:
    rows = WorkOrder.objects.filter(pk=order.pk, **{f"{column}__isnull": True}).update(
        **{column: now}
    )
    if rows != 1:
        return False
    if state == SlaState.BREACHED:
        WorkOrder.objects.filter(pk=order.pk).exclude(sla_state=SlaState.BREACHED).update(
            sla_state=SlaState.BREACHED
        )
    else:
        WorkOrder.objects.filter(pk=order.pk, sla_state=SlaState.OK).update(
            sla_state=SlaState.WARNING
        )
    common.record_event(
        order=order,
        kind=kind,
        at=now,
        actor=None,
        actor_label="beat",
        crew_id=order.crew_id,
        data=data,
    )
    return True


@transaction.atomic
def work_order_sla_check(*, order_id: int, now: datetime | None = None) -> list[str]:
    """Set the SLA marks due on order ``order_id`` at ``now`` (default now); idempotent.

    Returns the marks set (``arrive_warning``, ``arrive_breached``, ``restore_warning``,
    ``restore_breached``); a second run returns ``[]``.
    """
    now = now or timezone.now()
    order = WorkOrder.objects.filter(sla_due_filter(now), pk=order_id).first()
    if order is None:
        return []
    iso = {"arrive_due_at": order.arrive_due_at, "restore_due_at": order.restore_due_at}
    data = {k: v.isoformat() for k, v in iso.items() if v is not None}
    done: list[str] = []
    if order.arrive_due_at is not None:
        done += _check_clock(order, "arrive", "arrival", end=order.arrived_at, now=now, data=data)
    if order.restore_due_at is not None:
        end = order.restored_at or order.completed_at
        done += _check_clock(order, "restore", "restoration", end=end, now=now, data=data)
    return done


def _check_clock(
    order: WorkOrder,
    prefix: str,
    clock: str,
    *,
    end: datetime | None,
    now: datetime,
    data: dict[str, Any],
) -> list[str]:
    """The mark due on one clock (``prefix`` ``arrive`` or ``restore``) whose due time is
    set, stopped at ``end`` (arrival; restoration or completion): breached once past due
    unless stopped in time, else warned once past the warning time while still running."""
    due: datetime = getattr(order, f"{prefix}_due_at")
    breached_at = getattr(order, f"{prefix}_breached_at")
    warn_at = getattr(order, f"{prefix}_warn_at")
    stopped_in_time = end is not None and end < due
    if breached_at is None and not stopped_in_time and due <= now:
        mark, column, state = "breached", f"{prefix}_breached_at", SlaState.BREACHED
        kind = WorkOrderEvent.Kind.SLA_BREACHED
    elif (
        getattr(order, f"{prefix}_warned_at") is None
        and breached_at is None
        and end is None
        and warn_at is not None
        and warn_at <= now
    ):
        mark, column, state = "warning", f"{prefix}_warned_at", SlaState.WARNING
        kind = WorkOrderEvent.Kind.SLA_WARNING
    else:
        return []
    data = {**data, "clock": clock}
    if _mark(order, column=column, state=state, kind=kind, now=now, data=data):
        return [f"{prefix}_{mark}"]
    return []
