"""Reads of the beat sweepers: SLA marks due, stuck orders, expired offers and pool entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from workorders.models import (
    WorkOrder,
)

# --- SLA -------------------------------------------------------------------------------------


def _arrival_end() -> Q:
    # The arrival clock stopped in time: arrived before the deadline.
    return Q(arrived_at__isnull=False, arrived_at__lt=F("arrive_due_at"))


def _restoration_end() -> Q:
    # The restoration clock stopped in time: restored (or completed) before the deadline.
    return Q(restored_at__isnull=False, restored_at__lt=F("restore_due_at")) | Q(
        restored_at__isnull=True,
        completed_at__isnull=False,
        completed_at__lt=F("restore_due_at"),
    )


def sla_due_filter(now: datetime) -> Q:
    """Orders with a mark due at ``now`` (the beat sweeper's query; uses the deadline indexes)."""
    arrive_breach = Q(arrive_breached_at__isnull=True, arrive_due_at__lte=now) & ~_arrival_end()
    arrive_warn = Q(
        arrive_warned_at__isnull=True,
        arrive_breached_at__isnull=True,
        arrived_at__isnull=True,
        arrive_warn_at__lte=now,
    )
    restore_breach = (
        Q(restore_breached_at__isnull=True, restore_due_at__lte=now) & ~_restoration_end()
    )
    restore_warn = Q(
        restore_warned_at__isnull=True,
        restore_breached_at__isnull=True,
        restored_at__isnull=True,
        completed_at__isnull=True,
        restore_warn_at__lte=now,
    )
    return Q(status__in=WorkOrder.OPEN) & (
        arrive_breach | arrive_warn | restore_breach | restore_warn
    )


# --- sweepers ------------------------------------------------------------------------------------


def work_order_ids_stuck(*, now: datetime | None = None, stale: timedelta) -> list[int]:
    """Orders still waiting for a dispatch decision long after one was last asked for (or
    never asked for): their message was lost, or no crew was free last time."""
    now = now or timezone.now()
    cutoff = now - stale
    return list(
        WorkOrder.objects.filter(status__in=WorkOrder.NEEDS_DISPATCH)
        .filter(
            Q(dispatch_requested_at__lte=cutoff)
            | Q(dispatch_requested_at__isnull=True, updated_at__lte=cutoff)
        )
        .order_by("priority", "pk")
        .values_list("pk", flat=True)[:5000]
    )


def work_order_ids_offer_expired(*, now: datetime | None = None) -> list[int]:
    """Orders offered to a crew that has not accepted within the accept timeout."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(status__in=WorkOrder.AWAITING_ACCEPT, offer_expires_at__lte=now)
        .order_by("offer_expires_at", "pk")
        .values_list("pk", flat=True)
    )


def work_order_ids_pool_expired(*, now: datetime | None = None) -> list[int]:
    """Published orders nobody claimed within their time to live."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(status=WorkOrder.Status.PUBLISHED, pool_expires_at__lte=now)
        .order_by("pool_expires_at", "pk")
        .values_list("pk", flat=True)
    )


def work_order_ids_sla_due(*, now: datetime | None = None) -> list[int]:
    """Orders with an SLA warning or breach due and not yet marked."""
    now = now or timezone.now()
    return list(
        WorkOrder.objects.filter(sla_due_filter(now)).order_by("pk").values_list("pk", flat=True)
    )


def work_orders_waiting_count() -> int:
    """How many orders wait for a dispatch decision (storm mode above the threshold)."""
    return WorkOrder.objects.filter(status__in=WorkOrder.NEEDS_DISPATCH).count()
