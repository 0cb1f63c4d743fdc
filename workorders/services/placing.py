"""Placing an order the intake could not locate: the dispatcher puts it on the map.

A report at an address the register lacks still raises its order (an urgent hazard must not
wait for the register), but an order without a position cannot be ranked against crews. The
console places it by a click on the map, a known service point or a device; the order takes
the position, and the grid, district and area class of the nearest premise (within
``PLACE_NEAREST_METERS``) so that territory and the SLA area class mean something.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, TransitionNotAllowed
from grids import selectors as grid_selectors
from grids.models import Device, ServicePoint
from workorders.models import WorkOrder, WorkOrderEvent

from . import common

Status = WorkOrder.Status
# A click on the map borrows grid, district and area class from the nearest premise this close.
PLACE_NEAREST_METERS = 3000.0
PLACEABLE = WorkOrder.NEEDS_DISPATCH | {Status.PUBLISHED} | (WorkOrder.WITH_CREW - {Status.ON_SITE})


@dataclass(frozen=True)
class _Spot:
    lat: float
    lng: float
    address: str
    service_point: ServicePoint | None
    how: str


def _spot(
    *,
    lat: float | None,
    lng: float | None,
    service_point: ServicePoint | None,
    device: Device | None,
    address: str,
) -> _Spot:
    """Where the dispatcher put the order; ``DomainError`` (400) unless exactly one of
    (lat, lng), ``service_point`` and ``device`` is given."""
    given = [lat is not None and lng is not None, service_point is not None, device is not None]
    if sum(given) != 1:
        raise DomainError(
            _("请在地图上点选位置，或选择一个用户或设备（三选一）。"),
            code="invalid",
            fields={"lat": [_("须且只能给出一种位置。")]},
        )
    if service_point is not None:
        return _Spot(
            service_point.lat,
            service_point.lng,
            address or service_point.address,
            service_point,
            "service_point",
        )
    if device is not None:
        if device.lat is None or device.lng is None:
            raise DomainError(
                _("该设备没有坐标。"), code="invalid", fields={"device": [_("该设备没有坐标。")]}
            )
        return _Spot(device.lat, device.lng, address or device.code, None, "device")
    return _Spot(float(lat or 0.0), float(lng or 0.0), address, None, "map")


@transaction.atomic
def work_order_place(
    *,
    order: WorkOrder,
    actor: User | None,
    lat: float | None = None,
    lng: float | None = None,
    service_point: ServicePoint | None = None,
    device: Device | None = None,
    address: str = "",
    reason: str = "",
    expected_version: int | None = None,
) -> WorkOrder:
    """Give ``order`` a position: a point on the map, a service point or a device.

    Open orders not yet on site only (``TransitionNotAllowed`` otherwise). Grid, district and
    area class come from the service point, else from the nearest premise; an address typed
    by the dispatcher wins over the derived one, and an order's own address is kept when
    nothing else is known. Compare-and-set on the version seen (``ConcurrentUpdate``, 409);
    one timeline note records where and how.
    """
    if order.status not in PLACEABLE:
        raise TransitionNotAllowed(order.status, order.status)
    spot = _spot(
        lat=lat, lng=lng, service_point=service_point, device=device, address=address.strip()
    )
    near = spot.service_point or grid_selectors.service_point_nearest(
        lat=spot.lat,
        lng=spot.lng,
        max_meters=PLACE_NEAREST_METERS,
        fields=("grid_id", "district_id", "area_class"),
    )
    fields: dict[str, object] = {
        "lat": spot.lat,
        "lng": spot.lng,
        "address": (spot.address or order.address)[:300],
    }
    if near is not None:
        fields.update(grid_id=near.grid_id, district_id=near.district_id)
        fields["area_class"] = near.area_class
    if spot.service_point is not None and order.service_point_id is None:
        fields["service_point_id"] = spot.service_point.pk
    seen = order.version if expected_version is None else expected_version
    now = timezone.now()
    rows = WorkOrder.objects.filter(pk=order.pk, status=order.status, version=seen).update(
        version=F("version") + 1, updated_at=now, **fields
    )
    if rows != 1:
        raise ConcurrentUpdate(order.pk)
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.NOTE,
        at=now,
        actor=actor,
        reason=reason.strip() or _("调度员为工单确定了位置"),
        data={"cause": "placed", "how": spot.how, "lat": spot.lat, "lng": spot.lng},
    )
    order.refresh_from_db()
    return order
