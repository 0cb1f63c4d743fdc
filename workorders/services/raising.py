"""Raising work orders: by hand, for an outage (one per outage, never one per call) and for
a trouble report (single premise, danger)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, NotFound
from grids import selectors as grid_selectors
from grids.models import Grid, ServicePoint, Skill
from outages import selectors as outage_selectors
from outages.models import Outage, Priority, TroubleReport
from outages.selectors import intake as intake_selectors
from workorders.models import WorkOrder, WorkOrderEvent

from . import common, sla

Status = WorkOrder.Status
Kind = WorkOrder.Kind

SKILL_BY_OUTAGE_TYPE = {
    "fault_transformer": "transformer",
    "fault_lv_line": "lv",
    "fault_single_premise": "lv",
}
SKILL_BY_KIND: dict[str, str] = {Kind.PREMISE_REPAIR: "lv"}
DEFAULT_PRIORITY: dict[str, int] = {
    Kind.OUTAGE_REPAIR: Priority.HIGH,
    Kind.PREMISE_REPAIR: Priority.NORMAL,
    Kind.DANGER: Priority.URGENT,
    Kind.INSPECTION: Priority.LOW,
    Kind.PLANNED_WORK: Priority.LOW,
    Kind.COMPLAINT_FOLLOW_UP: Priority.NORMAL,
}


_RELATED_FIELDS = [
    "grid",
    "district",
    "skill_needed",
    "outage",
    "service_point",
    "source_report",
    "crew",
    "sla_policy",
    "cause",
    "merged_into",
    "reopened_from",
    "created_by",
]
_UNIQUE_ORDER_CONSTRAINTS = (
    "workorders_workorder_one_live_repair_per_outage",
    "workorders_workorder_one_per_report_and_kind",
)


def _skill(code: str | None) -> Skill | None:
    return grid_selectors.skill_get_by_code(code)


# --- raising orders ------------------------------------------------------------------------------


@transaction.atomic
@dataclass(frozen=True)
class _Place:
    lat: float | None
    lng: float | None
    grid: Grid | None
    address: str
    area_class: str
    district_id: int | None


def _order_place(
    *,
    service_point: ServicePoint | None,
    outage: Outage | None,
    grid: Grid | None,
    address: str,
    lat: float | None,
    lng: float | None,
) -> _Place:
    """Where a new order is: the service point's coordinates, grid, district, area class and
    address, then the outage's grid, then the grid's centre."""
    if service_point is not None:
        lat = service_point.lat if lat is None else lat
        lng = service_point.lng if lng is None else lng
        grid = grid or service_point.grid
        address = address or service_point.address
    if grid is None and outage is not None:
        grid = outage.grid
    if (lat is None or lng is None) and grid is not None and grid.center_lat is not None:
        lat, lng = grid.center_lat, grid.center_lng
    area_class = (
        service_point.area_class
        if service_point is not None
        else (grid.area_class if grid is not None else "urban")
    )
    district_id = (
        (service_point.district_id if service_point is not None else None)
        or (grid.district_id if grid is not None else None)
        or (outage.district_id if outage is not None else None)
    )
    return _Place(lat, lng, grid, address, area_class, district_id)


def _order_save(order: WorkOrder) -> None:
    """Validate and insert ``order``; ``Conflict`` when the database refuses a second live
    order for the same outage or report."""
    order.full_clean(exclude=_RELATED_FIELDS, validate_constraints=False)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as exc:
        # PostgreSQL names the constraint; SQLite only says which columns.
        message = str(exc)
        if "UNIQUE constraint failed" in message or any(
            name in message for name in _UNIQUE_ORDER_CONSTRAINTS
        ):
            raise Conflict(_("该停电事件或报修已有处理中的工单。"), code="duplicate_order") from exc
        raise


def work_order_create(
    *,
    kind: str,
    title: str,
    actor: User | None,
    actor_label: str = "",
    priority: int | None = None,
    description: str = "",
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    grid: Grid | None = None,
    service_point: ServicePoint | None = None,
    outage: Outage | None = None,
    source_report: TroubleReport | None = None,
    reports: Iterable[TroubleReport] = (),
    skill_needed: Skill | None = None,
    sla_started_at: datetime | None = None,
    reopened_from: WorkOrder | None = None,
    dispatch: bool = True,
) -> WorkOrder:
    """Raise a work order and, unless ``dispatch=False``, ask for a crew on commit.

    The location falls back to the service point's (coordinates, grid, district, area class,
    address), then the grid's centre. The arrival clock starts at ``sla_started_at`` (the first
    call) or now, for the kinds with commitments. Refuses a second live repair order for the
    same outage and a second order of one kind for the same report (``Conflict``).
    """
    now = timezone.now()
    place = _order_place(
        service_point=service_point, outage=outage, grid=grid, address=address, lat=lat, lng=lng
    )
    started = sla_started_at or now
    order = WorkOrder(
        kind=kind,
        title=title[:120],
        description=description,
        priority=priority or DEFAULT_PRIORITY.get(kind, Priority.NORMAL),
        address=place.address[:300],
        lat=place.lat,
        lng=place.lng,
        grid=place.grid,
        district_id=place.district_id,
        area_class=place.area_class,
        skill_needed=skill_needed,
        outage=outage,
        service_point=service_point,
        source_report=source_report,
        reopened_from=reopened_from,
        waiting_since=now,
        created_by=actor,
        **sla.arrival_clock(kind=kind, area_class=place.area_class, started_at=min(started, now)),
    )
    # Uniqueness is left to the database (one live repair order per outage, one order per
    # report and kind): a concurrent raise of the same order loses there, not in Python.
    # Related rows come in as loaded instances (and the database checks its foreign keys):
    # validating them again would cost one query each.
    _order_save(order)
    linked = [*reports, *([source_report] if source_report is not None else [])]
    if linked:
        order.reports.add(*linked)
    common.record_event(
        order=order,
        kind=WorkOrderEvent.Kind.CREATED,
        at=now,
        actor=actor,
        actor_label=actor_label,
        to_status=Status.CREATED,
        data={
            "kind": kind,
            "outage": outage.pk if outage else None,
            "report": source_report.pk if source_report else None,
            "reopened_from": reopened_from.pk if reopened_from else None,
        },
    )
    if dispatch:
        common.request_dispatch(order)
    return order


def _live_repair_order(outage_id: int) -> WorkOrder | None:
    return (
        WorkOrder.objects.filter(outage_id=outage_id, kind=Kind.OUTAGE_REPAIR)
        .exclude(status__in=WorkOrder.TERMINAL)
        .first()
    )


def _outage_location(outage: Outage) -> tuple[float | None, float | None]:
    """Where to send the crew: the main device, else the single premise, else the middle of
    the customers out (read from the interruptions)."""
    device = outage.device
    if device.lat is not None and device.lng is not None:
        return device.lat, device.lng
    sp = outage.service_point
    if sp is not None:
        return sp.lat, sp.lng
    return outage_selectors.outage_customers_centre(outage_id=outage.pk)


def work_order_raise_for_outage(*, outage_id: int) -> WorkOrder | None:
    """The repair order of an outage (predicted or confirmed): created once, whatever number
    of calls and events arrive. Returns the live order (new or existing), or None when the
    outage no longer needs one (gone, finished, planned)."""
    try:
        outage = outage_selectors.outage_get(outage_id=outage_id)
    except NotFound:
        return None
    if outage.status not in Outage.ACTIVE or outage.is_planned:
        return None
    existing = _live_repair_order(outage.pk)
    if existing is not None:
        return existing
    lat, lng = _outage_location(outage)
    first_call = outage_selectors.outage_first_report_at(outage_id=outage.pk)
    title = f"{outage.type.name} {outage.device.name or outage.device.code}"
    try:
        return work_order_create(
            kind=Kind.OUTAGE_REPAIR,
            title=title,
            actor=None,
            actor_label="system",
            priority=outage.type.default_priority,
            description=outage.description,
            lat=lat,
            lng=lng,
            grid=outage.grid,
            service_point=outage.service_point,
            outage=outage,
            skill_needed=_skill(SKILL_BY_OUTAGE_TYPE.get(outage.type.code)),
            sla_started_at=first_call or outage.started_at,
        )
    except Conflict:
        return _live_repair_order(outage.pk)


def work_order_raise_for_report(*, report_id: int, kind: str) -> WorkOrder | None:
    """A single-premise or danger order for a trouble report, once per report and kind.

    A danger order is raised even when the report merged into a known outage (a wire down
    is a public hazard whatever the outage); it links that outage for context but does not
    move it. Returns the order, or None when the report is gone.
    """
    if kind not in (Kind.PREMISE_REPAIR, Kind.DANGER):
        raise DomainError(_("报修只能生成单户抢修或危险处置工单。"), code="invalid")
    try:
        report = intake_selectors.report_get(report_id=report_id)
    except NotFound:
        return None
    existing = (
        WorkOrder.objects.filter(source_report=report, kind=kind)
        .exclude(status__in=[Status.CANCELLED, Status.MERGED])
        .first()
    )
    if existing is not None:
        return existing
    sp = report.service_point
    symptom = report.get_symptom_display()
    title = (
        _("危险处置：%(symptom)s") % {"symptom": symptom}
        if kind == Kind.DANGER
        else _("单户故障：%(symptom)s") % {"symptom": symptom}
    )
    priority = None
    if kind == Kind.PREMISE_REPAIR:
        priority = outage_selectors.outage_type_default_priority(code="fault_single_premise")
    try:
        return work_order_create(
            kind=kind,
            title=title,
            actor=None,
            actor_label="system",
            priority=priority,
            description=report.description,
            address=report.raw_address,
            lat=report.lat,
            lng=report.lng,
            service_point=sp,
            grid=(sp.grid if sp else None) or (report.outage.grid if report.outage else None),
            outage=report.outage if kind == Kind.DANGER else None,
            source_report=report,
            skill_needed=_skill(SKILL_BY_KIND.get(kind)),
            sla_started_at=report.received_at,
        )
    except Conflict:
        return (
            WorkOrder.objects.filter(source_report=report, kind=kind)
            .exclude(status__in=[Status.CANCELLED, Status.MERGED])
            .first()
        )
