"""Reads of the crews' app: the parts catalogue and stock, the parts on an order, the device
history of an order."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from grids.models import Crew, Device
from outages.models import OutageCause
from workorders.models import WorkOrder

from .models import PartMove, SparePart, StationStock

HISTORY_LIMIT = 20


def spare_parts_with_stock() -> QuerySet[SparePart]:
    """The active catalogue, each part with its stock rows (stations prefetched)."""
    return (
        SparePart.objects.filter(is_active=True).prefetch_related("stock__station").order_by("code")
    )


def part_held(*, order: WorkOrder, crew: Crew, part: SparePart) -> int:
    """How many of ``part`` the crew took for ``order`` and has neither used nor returned."""
    sums = PartMove.objects.filter(order=order, crew=crew, part=part).aggregate(
        taken=Sum("quantity", filter=Q(kind=PartMove.Kind.REQUEST)),
        spent=Sum("quantity", filter=~Q(kind=PartMove.Kind.REQUEST)),
    )
    return (sums["taken"] or 0) - (sums["spent"] or 0)


def order_part_moves(*, order: WorkOrder) -> QuerySet[PartMove]:
    """The part moves of ``order``, oldest first, with part and crew."""
    return PartMove.objects.filter(order=order).select_related("part", "crew", "station")


def station_stock(*, station_id: int, part: SparePart) -> int:
    """The quantity of ``part`` at the station (0 without a row)."""
    row = StationStock.objects.filter(station_id=station_id, part=part).first()
    return row.quantity if row else 0


@dataclass(frozen=True)
class DeviceHistory:
    """What the crew sees about the equipment of an order."""

    device: Device | None
    transformer: Device | None
    previous: list[WorkOrder]
    open_orders: list[WorkOrder]
    contact_phones: list[str]
    symptoms: list[str]


def order_device_history(*, order: WorkOrder) -> DeviceHistory:
    """The order's device (its outage's) and transformer (its service point's), the earlier
    orders on either (newest first, with their findings) and the other open ones (the
    defects still being worked on), and the callers' numbers and symptoms."""
    device = order.outage.device if order.outage_id and order.outage else None
    transformer = order.service_point.transformer if order.service_point else None
    devices = [d.pk for d in (device, transformer) if d is not None]
    previous: list[WorkOrder] = []
    open_orders: list[WorkOrder] = []
    if devices:
        related = (
            WorkOrder.objects.filter(
                Q(outage__device_id__in=devices) | Q(service_point__transformer_id__in=devices)
            )
            .exclude(pk=order.pk)
            .select_related("cause", "crew")
            .order_by("-created_at", "-pk")
        )
        # Still being worked on: open and not yet completed (a completed order awaiting its
        # return visit is history already).
        unfinished = Q(status__in=WorkOrder.OPEN - WorkOrder.DONE)
        open_orders = list(related.filter(unfinished)[:HISTORY_LIMIT])
        previous = list(related.exclude(unfinished)[:HISTORY_LIMIT])
    reports = list(order.reports.order_by("received_at"))
    if order.source_report and order.source_report not in reports:
        reports.insert(0, order.source_report)
    phones = list(dict.fromkeys(r.contact_phone for r in reports if r.contact_phone))
    symptoms = list(dict.fromkeys(r.get_symptom_display() for r in reports))
    return DeviceHistory(device, transformer, previous, open_orders, phones, symptoms)


def outage_causes() -> QuerySet[OutageCause]:
    """The active causes a crew may give with its findings, in the taxonomy's order."""
    return OutageCause.objects.filter(is_active=True).order_by("sort_order", "code")
