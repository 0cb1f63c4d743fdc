"""Reads of the dispatcher console's live feed (``workorders.console_views``).

The feed's ETag is computed from three fingerprints *before* any row is read, so an unchanged
picture costs three small queries: the open orders', the active outages' and the crews'. The
rows themselves are plain dicts (a thousand crews in a city: no model instances).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Sum

from dispatch_center.core.dates import iso
from dispatch_center.core.i18n import pick_name
from grids.models import Crew
from grids.selectors import reference as grid_reference
from outages import selectors as outage_selectors
from outages.models import Outage
from workorders.models import WorkOrder

from .dispatch import crew_board
from .orders import work_order_list


def work_orders_fingerprint() -> dict[str, Any]:
    """One aggregate over the open orders that changes whenever any of them changes.

    Every status change and edit bumps ``version`` and ``updated_at`` (compare-and-set in the
    services); the SLA marks do not (they must not break a crew's concurrent compare-and-set),
    so their timestamps are part of it. An order leaving the open set changes the count and
    the version sum; one entering it brings a newer ``updated_at``. Terminal orders never
    change again, so a filter on them is covered too.
    """
    qs = work_order_list(filters={"open": True}).order_by()
    return qs.aggregate(
        n=Count("pk"),
        versions=Sum("version"),
        updated=Max("updated_at"),
        arrive_warned=Max("arrive_warned_at"),
        arrive_breached=Max("arrive_breached_at"),
        restore_warned=Max("restore_warned_at"),
        restore_breached=Max("restore_breached_at"),
    )


def outages_fingerprint() -> dict[str, Any]:
    """Active outages: every change bumps ``version`` and ``updated_at``; one leaving the
    active set changes the count."""
    qs = outage_selectors.outage_list_active().order_by()
    return qs.aggregate(n=Count("pk"), versions=Sum("version"), updated=Max("updated_at"))


# What the map shows of a crew; the fingerprint reads exactly these columns.
CREW_COLUMNS = (
    "id",
    "status",
    "on_duty",
    "capacity",
    "last_lat",
    "last_lng",
    "last_located_at",
    "updated_at",
)


def crews_fingerprint() -> str:
    """A digest of what the map shows of every crew: status, duty, position and its age.

    Crew rows are changed with plain updates (status, position: ``grids.services.crews``) that
    carry neither a version nor ``updated_at``, so no aggregate can be trusted to move; every
    crew's narrow columns are digested instead. On PostgreSQL the database does it (one short
    row comes back; a thousand crews take a few milliseconds), elsewhere Python does.
    Open-order counts follow the orders, which ``work_orders_fingerprint`` covers; names and
    stations are edited with ``save()``, which moves ``updated_at``.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Crew._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in CREW_COLUMNS)
        # Identifiers only (the model's table and fixed column names), no user input.
        sql = (
            f"SELECT md5(string_agg(concat_ws('|', {columns}), ',' ORDER BY id)) "  # noqa: S608
            f"FROM {table}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
            return str(row[0] if row else None)
    digest = hashlib.sha256()
    rows = Crew.objects.order_by("pk").values_list(*CREW_COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def console_crew_rows() -> list[dict[str, Any]]:
    """Every crew with its status, load and last position (the map's crew layer); plain
    values of the crew-board selector."""
    # ``open_orders`` is crew_board's annotation, which the type stubs cannot see.
    rows = crew_board().values(  # type: ignore[misc]
        "pk",
        "code",
        "name",
        "status",
        "on_duty",
        "capacity",
        "open_orders",
        "station__name",
        "station__grid_id",
        "last_lat",
        "last_lng",
        "last_located_at",
    )
    return [
        {
            "id": c["pk"],
            "code": c["code"],
            "name": c["name"],
            "status": c["status"],
            "on_duty": c["on_duty"],
            "capacity": c["capacity"],
            "open_orders": c["open_orders"],
            "station": c["station__name"],
            "grid_id": c["station__grid_id"],
            "lat": c["last_lat"],
            "lng": c["last_lng"],
            "located_at": iso(c["last_located_at"]),
        }
        for c in rows
    ]


def console_filter_options() -> dict[str, Any]:
    """Districts and grids for the list filters (reference rows, a few hundred at most),
    districts named in the active language."""
    districts = [
        {"id": pk, "code": code, "name": pick_name(name, name_en)}
        for pk, code, name, name_en in grid_reference.district_rows()
    ]
    grids = [
        {"id": pk, "code": code, "name": name, "district": district_id}
        for pk, code, name, district_id in grid_reference.grid_rows()
    ]
    return {"districts": districts, "grids": grids}


def _bbox_centre(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The middle of a GeoJSON geometry's bounding box (lat, lng), or None."""
    if not geometry:
        return None
    xs: list[float] = []
    ys: list[float] = []

    def walk(value: Any) -> None:
        if value and isinstance(value[0], int | float):
            xs.append(float(value[0]))
            ys.append(float(value[1]))
        else:
            for item in value:
                walk(item)

    walk(geometry.get("coordinates") or [])
    if not xs:
        return None
    return (min(ys) + max(ys)) / 2, (min(xs) + max(xs)) / 2


# The outage's repair state as its repair order says (the order is the source of truth for
# the crew: an outage must never read "crew on site" beside an order still "dispatched").
_REPAIR_STATE: dict[str, str] = {
    WorkOrder.Status.DISPATCHED: Outage.Status.CREW_DISPATCHED,
    WorkOrder.Status.CLAIMED: Outage.Status.CREW_DISPATCHED,
    WorkOrder.Status.ACCEPTED: Outage.Status.CREW_DISPATCHED,
    WorkOrder.Status.EN_ROUTE: Outage.Status.CREW_DISPATCHED,
    WorkOrder.Status.ON_SITE: Outage.Status.CREW_ON_SITE,
    WorkOrder.Status.COMPLETED: Outage.Status.CREW_ON_SITE,
}
_CREW_STATES = frozenset({Outage.Status.CREW_DISPATCHED, Outage.Status.CREW_ON_SITE})


def outage_repair_status(outage_status: str, order_status: str | None) -> str:
    """The status the console shows for an outage: its own, except that the crew states
    (crew dispatched, crew on site) are derived from its live repair order when it has one."""
    if outage_status not in _CREW_STATES and outage_status != Outage.Status.CONFIRMED:
        return outage_status
    derived = _REPAIR_STATE.get(order_status or "")
    if derived is None:
        return Outage.Status.CONFIRMED if outage_status in _CREW_STATES else outage_status
    return derived


def console_outage_rows() -> list[dict[str, Any]]:
    """Active outages with their area, a label point and their live repair order, names in
    the active language."""
    outages = list(outage_selectors.outage_list_active())
    repair_orders = {
        o.outage_id: o
        for o in work_order_list(filters={"open": True, "kind": [WorkOrder.Kind.OUTAGE_REPAIR]})
        .filter(outage_id__in=[o.pk for o in outages])
        .select_related(None)
        .only("pk", "outage_id", "lat", "lng", "status", "crew_id")
    }
    rows = []
    for outage in outages:
        order = repair_orders.get(outage.pk)
        point = None
        if outage.device.lat is not None and outage.device.lng is not None:
            point = (outage.device.lat, outage.device.lng)
        point = point or _bbox_centre(outage.area)
        if point is None and order is not None and order.lat is not None and order.lng is not None:
            point = (order.lat, order.lng)
        cause = outage.cause
        rows.append(
            {
                "id": outage.pk,
                "status": outage.status,
                "repair_status": outage_repair_status(
                    outage.status, order.status if order is not None else None
                ),
                "order_status": order.status if order is not None else None,
                "category": outage.type.category.code,
                "type": pick_name(outage.type.name, outage.type.name_en),
                "cause": pick_name(cause.name, cause.name_en) if cause is not None else None,
                "device": outage.device.code,
                "customers_affected": outage.customers_affected,
                "customers_out": outage.customers_out,
                "started_at": iso(outage.started_at),
                "etr": iso(outage.etr),
                "district_id": outage.district_id,
                "grid_id": outage.grid_id,
                "lat": point[0] if point else None,
                "lng": point[1] if point else None,
                "area": outage.area,
                "order_id": order.pk if order is not None else None,
                "version": outage.version,
            }
        )
    return rows
