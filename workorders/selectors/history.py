"""An order's history as the crews' app shows it: the earlier and still open orders on the
same equipment, and what its callers reported."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from grids.models import Device
from workorders.models import WorkOrder

HISTORY_LIMIT = 20


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
