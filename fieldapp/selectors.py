"""Reads of the crews' app: the parts catalogue and stock, the parts on an order, the device
history of an order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet, Sum

from outages.selectors import taxonomy
from workorders.selectors import history
from workorders.selectors.history import DeviceHistory

from .models import PartMove, SparePart, StationStock

if TYPE_CHECKING:
    from grids.models import Crew
    from outages.models import OutageCause
    from workorders.models import WorkOrder

__all__ = [
    "DeviceHistory",
    "order_device_history",
    "order_part_moves",
    "outage_causes",
    "part_held",
    "spare_parts_with_stock",
    "station_stock",
]


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


def order_device_history(*, order: WorkOrder) -> DeviceHistory:
    """The order's equipment, its earlier and open orders and its callers (a read of the
    work-orders app)."""
    return history.order_device_history(order=order)


def outage_causes() -> QuerySet[OutageCause]:
    """The active causes a crew may give with its findings, in the taxonomy's order."""
    return taxonomy.outage_causes()
