"""Trouble report intake: the call is saved whatever happens; then it is merged or left.

Flow of ``report_submit`` (hotline, web map, app, WeChat; the SCADA gateway has its own path):

1. Coordinates outside the service area are refused (400): bad input, not a call.
2. The premise is resolved (``_placement_of_input``: a staff-given service point, an exact
   account, the nearest service point within ``OUTAGE_INTAKE_NEAREST_METERS`` of the
   coordinates, or a clearly best address) and placed (``_placement_for``), by reads only:
   merged into the active outage that has this customer out; ``pending`` for the roll-up
   (``outages.services.rollup_service``, triggered after commit); ``needs_resolution`` for
   an agent (``report_resolve``) when the premise is not certain. Any failure here is caught.
3. The report is inserted in one autocommitted statement with that placement (``received``
   after a failure, for the sweeper), so nothing that follows can lose it. The
   ``Idempotency-Key`` is the unique constraint's: a retry's insert fails and returns the
   first report (``created=False``), or ``IdempotencyKeyReused`` (422) for another body.
4. A customer whose interruption in an outage already ended (restored, still off) gets a
   nested single-premise outage, opened after the insert (``_nest_after_insert``).
5. Sparks / wire down publish ``report.danger`` once, whatever the placement.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, NotFound
from dispatch_center.core.i18n import is_english, pick_name
from grids import selectors as grid_selectors
from grids.address import parse_address
from grids.geodata import DISTRICTS
from grids.models import ServicePoint
from grids.selectors import service_point_search
from outages import events
from outages.models import Interruption, Outage, TroubleReport
from outages.selectors import outage_for_service_point

from .interruptions import outage_open_nested

logger = logging.getLogger(__name__)

Status = TroubleReport.Status
ACTOR_LABEL = "intake"

# An address hit is taken without an agent only when it is this good and this far ahead of
# the next one (scores of grids.selectors.search: prefix 0.7-0.9, contained 0.4-0.7).
ADDRESS_MIN_SCORE = 0.85
ADDRESS_MIN_LEAD = 0.1
ADDRESS_CANDIDATES = 5
# The district outlines of grids.geodata are simplified at ~600 m: allow a margin around them
# (degrees, ~1 km) so that a customer on the coast or a border is not refused.
SERVICE_AREA_MARGIN_DEG = 0.01
# Unambiguous characters only: a reference is read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"
    status_code = 422


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What a caller submits. Exactly one way to locate the premise is expected: a service
    point (staff), an account number, an address, or coordinates."""

    channel: str
    symptom: str
    contact_phone: str
    contact_name: str = ""
    description: str = ""
    account_no: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    service_point_id: int | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical body, to tell a retry from another request."""
        body = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The report as it stands after intake; ``created`` is False for an idempotent replay."""

    report: TroubleReport
    created: bool

    @property
    def outage(self) -> Outage | None:
        return self.report.outage


# --- submission -------------------------------------------------------------------------


@dataclass(slots=True)
class _Placement:
    """Where a report goes, decided from reads only (``parent``: open a nested outage)."""

    status: str = Status.RECEIVED
    service_point: ServicePoint | None = None
    outage: Outage | None = None
    parent: Outage | None = None


def report_submit(
    *,
    data: ReportInput,
    actor: User | None,
    idempotency_client: str = "",
    idempotency_key: str | None = None,
    received_at: datetime | None = None,
) -> IntakeResult:
    """Record a trouble report and place it (see the module docstring).

    Deliberately not one transaction. The premise and the outage are looked up first, by
    reads only, and any failure there is caught: the report is then inserted as it stands
    (``received`` after a failure, for the sweeper) in one autocommitted statement, so
    nothing after the insert can lose the call and the common path costs one write. A
    nested outage, the only placement that writes, is opened after the insert. The
    ``Idempotency-Key`` is enforced by the unique constraint: a replay's insert fails and
    the first report is returned. Raises ``DomainError`` (400) for coordinates outside the
    service area and ``IdempotencyKeyReused`` (422) for a key reused with another body.
    """
    fingerprint = data.fingerprint()
    if data.lat is not None and data.lng is not None and not in_service_area(data.lat, data.lng):
        message = _("该位置不在深圳供电服务区域内。")
        raise DomainError(
            message, code="outside_service_area", fields={"lat": [message], "lng": [message]}
        )
    try:
        placement = _placement_of_input(data)
    except Exception:
        # Saved anyway as received; the sweeper processes it again.
        logger.exception("Resolving a trouble report failed; saving it as received")
        placement = _Placement()
    inserted = _report_insert(
        data=data,
        placement=placement,
        fingerprint=fingerprint,
        actor=actor,
        idempotency_client=idempotency_client,
        idempotency_key=idempotency_key,
        received_at=received_at or timezone.now(),
    )
    if isinstance(inserted, IntakeResult):
        return inserted  # a retry: the first report, unchanged
    report = inserted
    if placement.parent is not None and placement.service_point is not None:
        try:
            _nest_after_insert(report, placement.service_point, placement.parent)
        except Exception:
            logger.exception("Nested outage for report %s failed; left pending", report.pk)
    if report.status == Status.PENDING:
        transaction.on_commit(_request_rollup)
    if report.is_danger:
        events.publish(
            events.REPORT_DANGER,
            report_id=report.pk,
            outage_id=report.outage_id,
            service_point_id=report.service_point_id,
        )
    return IntakeResult(report=report, created=True)


def _placement_of_input(data: ReportInput) -> _Placement:
    if data.service_point_id is not None:
        service_point = ServicePoint.objects.filter(pk=data.service_point_id).first()
    elif data.account_no:
        service_point = grid_selectors.service_point_for_account(data.account_no)
    elif data.lat is not None and data.lng is not None:
        service_point = service_point_nearest(lat=data.lat, lng=data.lng)
    elif data.address:
        service_point = service_point_for_address(data.address)
    else:
        service_point = None
    return _placement_for(service_point)


def _placement_for(service_point: ServicePoint | None) -> _Placement:
    """Merged into the outage that has the customer out (``outage_for_service_point``); else
    pending, with the outage that restored the customer (still off: nested) if there is one.

    Reads only. One query answers the common case (the customer is in no open outage); the
    selector runs only when the customer has an active interruption.
    """
    if service_point is None:
        return _Placement(status=Status.NEEDS_RESOLUTION)
    rows = _open_interruptions(service_point.pk)
    if any(ended_at is None for ended_at, _outage_id in rows):
        outage = outage_for_service_point(service_point=service_point.pk)
        if outage is not None:
            return _Placement(Status.MERGED, service_point, outage)
    restored = [(ended_at, outage_id) for ended_at, outage_id in rows if ended_at is not None]
    parent = None
    if restored:
        parent_id = max(restored)[1]  # the latest restoration
        parent = Outage.objects.select_related("type__category").get(pk=parent_id)
    return _Placement(Status.PENDING, service_point, None, parent)


def _open_interruptions(service_point_id: int) -> list[tuple[datetime | None, int]]:
    """``(ended_at, outage_id)`` of the customer's interruptions in active outages, and in
    outages restored within ``OUTAGE_INTAKE_NESTED_WINDOW_MINUTES`` (a call soon after
    restoration means "still off").

    Plain SQL on purpose: it runs for every call of a storm, and building this join through
    the ORM costs ten times the query (bench/intake_throughput.py). Names come from the models.
    """
    window = timedelta(minutes=getattr(settings, "OUTAGE_INTAKE_NESTED_WINDOW_MINUTES", 240))
    since = timezone.now() - window
    with connection.cursor() as cursor:
        cursor.execute(_open_interruptions_sql(), [service_point_id])
        rows = cursor.fetchall()
    found: list[tuple[datetime | None, int]] = []
    for ended_at, outage_id, status in rows:
        if ended_at is not None and timezone.is_naive(ended_at):  # SQLite
            ended_at = timezone.make_aware(ended_at, UTC)
        if status in Outage.ACTIVE or (
            status == Outage.Status.RESTORED and ended_at is not None and ended_at >= since
        ):
            found.append((ended_at, outage_id))
    return found


@cache
def _open_interruptions_sql() -> str:
    outage_fk = _col(Interruption, "outage")
    # Only quoted names from the models are interpolated; the value goes as a parameter.
    return (
        f"SELECT i.{_col(Interruption, 'ended_at')}, i.{outage_fk}, "  # noqa: S608
        f"o.{_col(Outage, 'status')} "
        f"FROM {_table(Interruption)} i JOIN {_table(Outage)} o "
        f"ON o.{_col(Outage, 'id')} = i.{outage_fk} "
        f"WHERE i.{_col(Interruption, 'service_point')} = %s "
        f"AND i.{_col(Interruption, 'started_at')} IS NOT NULL LIMIT 100"
    )


def _find_by_key(client: str, key: str) -> TroubleReport | None:
    return (
        TroubleReport.objects.select_related("outage__type__category", "outage__cause")
        .filter(idempotency_client=client, idempotency_key=key)
        .first()
    )


def _replay(existing: TroubleReport, fingerprint: str) -> IntakeResult:
    if existing.request_fingerprint and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("该 Idempotency-Key 已用于另一份不同内容的报修，请为新的报修使用新的 Key。")
        )
    return IntakeResult(report=existing, created=False)


def _new_reference(day: datetime) -> str:
    tail = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"R{timezone.localtime(day):%Y%m%d}-{tail}"


def _report_insert(
    *,
    data: ReportInput,
    placement: _Placement,
    fingerprint: str,
    actor: User | None,
    idempotency_client: str,
    idempotency_key: str | None,
    received_at: datetime,
) -> TroubleReport | IntakeResult:
    """Insert the report as placed; a reference collision draws again, a known key replays."""
    for _attempt in range(5):
        report = TroubleReport(
            reference=_new_reference(received_at),
            channel=data.channel,
            contact_phone=data.contact_phone,
            contact_name=data.contact_name,
            raw_address=data.address,
            raw_account_no=data.account_no,
            lat=data.lat,
            lng=data.lng,
            symptom=data.symptom,
            description=data.description,
            status=placement.status,
            service_point=placement.service_point,
            outage=placement.outage,
            resolved_at=received_at if placement.service_point is not None else None,
            idempotency_client=idempotency_client,
            idempotency_key=idempotency_key or None,
            request_fingerprint=fingerprint,
            received_at=received_at,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        # Field checks only: keys, uniqueness and constraints are the database's (no queries).
        report.full_clean(
            exclude=["created_by", "service_point", "outage"],
            validate_unique=False,
            validate_constraints=False,
        )
        try:
            if connection.in_atomic_block:
                # Inside a caller's transaction a failed insert must not break it.
                with transaction.atomic():
                    report.save(force_insert=True)
            else:
                # Autocommit: one round trip, and the report is committed at once.
                report.save(force_insert=True)
        except IntegrityError:
            if idempotency_key:
                existing = _find_by_key(idempotency_client, idempotency_key)
                if existing is not None:
                    return _replay(existing, fingerprint)
            continue  # the reference was taken: draw another
        return report
    raise DomainError(_("暂时无法生成报修编号，请稍后重试。"), code="reference_exhausted")


@transaction.atomic
def _nest_after_insert(report: TroubleReport, service_point: ServicePoint, parent: Outage) -> None:
    """Open the nested outage of a just-inserted pending report and point the report at it."""
    status, outage = _open_nested(report, service_point, parent)
    if status == Status.PENDING:
        return
    TroubleReport.objects.filter(pk=report.pk, status=Status.PENDING).update(
        status=status, outage=outage, updated_at=timezone.now()
    )
    report.status, report.outage = status, outage


# --- processing (the sweeper, agents) -----------------------------------------------------


@transaction.atomic
def report_process(*, report_id: int) -> TroubleReport:
    """Resolve and place a report left ``received`` (its first processing failed); publishes
    ``report.danger`` for danger calls.

    Takes the report's row lock; a report no longer ``received`` is returned unchanged (a
    duplicate run does nothing).
    """
    report = _report_lock(report_id)
    if report.status != Status.RECEIVED:
        return report
    try:
        with transaction.atomic():
            service_point = _resolve(report)
    except Exception:
        # It failed at intake already: an agent rather than a retry every sweep.
        logger.exception("Resolving report %s failed again; an agent will locate it", report.pk)
        service_point = None
    _settle(report, service_point)
    if report.is_danger:
        events.publish(
            events.REPORT_DANGER,
            report_id=report.pk,
            outage_id=report.outage_id,
            service_point_id=report.service_point_id,
        )
    return report


@transaction.atomic
def report_resolve(
    *, report_id: int, service_point: ServicePoint, actor: User | None
) -> TroubleReport:
    """An agent found the premise of a ``needs_resolution`` (or stuck ``received``) report:
    attach ``service_point`` and place the report as at intake (merge, nested, or roll-up).

    ``Conflict`` when the report was already placed. ``report.danger`` is not repeated.
    """
    report = _report_lock(report_id)
    if report.status not in (Status.NEEDS_RESOLUTION, Status.RECEIVED):
        raise Conflict(
            _("该报修已处理（当前状态：%(status)s），无需再定位。")
            % {"status": report.get_status_display()},
            code="already_resolved",
        )
    _settle(report, service_point)
    logger.info("Report %s resolved to %s by %s", report.pk, service_point.pk, actor)
    return report


def _report_lock(report_id: int) -> TroubleReport:
    report = TroubleReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("报修 %(id)s 不存在。") % {"id": report_id})
    return report


def _settle(report: TroubleReport, service_point: ServicePoint | None) -> None:
    """Place ``report`` (caller holds its lock), write it and trigger the roll-up."""
    now = timezone.now()
    placement = _placement_for(service_point)
    status, outage = placement.status, placement.outage
    if placement.parent is not None and service_point is not None:
        status, outage = _open_nested(report, service_point, placement.parent)
    TroubleReport.objects.filter(pk=report.pk).update(
        status=status,
        service_point=service_point,
        outage=outage,
        resolved_at=now if service_point is not None else None,
        updated_at=now,
    )
    report.status = status
    report.service_point = service_point
    report.outage = outage
    report.resolved_at = now if service_point is not None else None
    if status == Status.PENDING:
        transaction.on_commit(_request_rollup)


def _request_rollup() -> None:
    from .rollup_service import rollup_request

    rollup_request()


def _open_nested(
    report: TroubleReport, service_point: ServicePoint, parent: Outage
) -> tuple[str, Outage | None]:
    """Open a single-premise child of ``parent`` for a customer it restored who is still off:
    (``predicted``, child). Cut off again in the tree meanwhile: (``merged``, that outage).
    Refused for another reason: (``pending``, None), left to the roll-up."""
    try:
        child = outage_open_nested(
            parent=parent,
            service_point=service_point,
            actor=None,
            actor_label=ACTOR_LABEL,
            reason=_("报修 %(reference)s：已恢复供电的用户仍无电。")
            % {"reference": report.reference},
        )
    except Conflict:
        outage = outage_for_service_point(service_point=service_point.pk)
        if outage is not None:
            return Status.MERGED, outage
    except DomainError:
        logger.warning("No nested outage for report %s", report.pk, exc_info=True)
    else:
        return Status.PREDICTED, Outage.objects.select_related("type__category", "cause").get(
            pk=child.pk
        )
    return Status.PENDING, None


# --- resolution -------------------------------------------------------------------------


def _resolve(report: TroubleReport) -> ServicePoint | None:
    """The caller's service point, only when the match is confident."""
    if report.raw_account_no:
        return grid_selectors.service_point_for_account(report.raw_account_no)
    if report.lat is not None and report.lng is not None:
        return service_point_nearest(lat=report.lat, lng=report.lng)
    if report.raw_address:
        return service_point_for_address(report.raw_address)
    return None


def service_point_for_address(address: str) -> ServicePoint | None:
    """The service point of ``address`` when one is clearly meant, else None (an agent).

    Confident: exactly one premise has this normalised address (in the district the text
    starts with, if any), found by one indexed query before anything else; or the top hit
    of ``grids.selectors.service_point_search`` scores at least ``ADDRESS_MIN_SCORE`` and
    leads the next by ``ADDRESS_MIN_LEAD``. Several premises at the same address: an agent.
    """
    parsed = parse_address(address)
    norm = parsed.norm
    if not norm:
        return None
    exact = grid_selectors.service_points_with_address(norm=norm, district=parsed.district)
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None  # several premises share the address: ask
    try:
        hits = service_point_search(q=address, limit=ADDRESS_CANDIDATES)
    except EmptyResultSet:  # a district prefix naming no district in the database
        return None
    if not hits:
        return None
    ranked = sorted(hits, key=lambda h: -h.score)
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if top.score >= ADDRESS_MIN_SCORE and top.score - runner_up >= ADDRESS_MIN_LEAD:
        return top.service_point
    return None


def service_point_nearest(
    *, lat: float, lng: float, max_meters: float | None = None
) -> ServicePoint | None:
    """The service point nearest to (lat, lng) within ``max_meters`` (default
    ``OUTAGE_INTAKE_NEAREST_METERS``), or None (``grids.selectors.service_point_nearest``)."""
    default: float = getattr(settings, "OUTAGE_INTAKE_NEAREST_METERS", 150.0)
    return grid_selectors.service_point_nearest(
        lat=lat, lng=lng, max_meters=float(max_meters or default)
    )


def _col(model: Any, name: str) -> str:
    """The quoted column of ``model``'s field ``name`` (for the plain-SQL reads above)."""
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


@cache
def _service_area() -> Any:
    from shapely.geometry import Polygon
    from shapely.ops import unary_union
    from shapely.prepared import prep

    polygons = [Polygon(ring) for district in DISTRICTS for ring in district.outline]
    return prep(unary_union(polygons).buffer(SERVICE_AREA_MARGIN_DEG))


@cache
def _service_bbox() -> tuple[float, float, float, float]:
    boxes = [d.bbox for d in DISTRICTS]
    m = SERVICE_AREA_MARGIN_DEG
    return (
        min(b[0] for b in boxes) - m,
        min(b[1] for b in boxes) - m,
        max(b[2] for b in boxes) + m,
        max(b[3] for b in boxes) + m,
    )


def in_service_area(lat: float, lng: float) -> bool:
    """True when (lat, lng) (WGS-84) lies in Shenzhen's districts (with a small margin)."""
    from shapely.geometry import Point

    min_lng, min_lat, max_lng, max_lat = _service_bbox()
    if not (min_lat <= lat <= max_lat and min_lng <= lng <= max_lng):
        return False
    return bool(_service_area().contains(Point(lng, lat)))


# --- what the caller is told ---------------------------------------------------------------


def report_message(report: TroubleReport) -> str:
    """The answer to the caller in the active language (Chinese, or English for ``en``)."""
    outage = report.outage
    parts: list[str] = []
    if report.status in (Status.MERGED, Status.PREDICTED) and outage is not None:
        if report.status == Status.MERGED:
            parts.append(_("您所在区域的停电已在处理中，无需重复报修。"))
        else:
            parts.append(_("已根据您的报修生成停电事件，抢修人员将尽快处理。"))
        if outage.cause is not None:
            cause = pick_name(outage.cause.name, outage.cause.name_en)
            parts.append(_("停电原因：%(cause)s。") % {"cause": cause})
        else:
            parts.append(_("停电原因正在查明。"))
        parts.append(_("当前状态：%(status)s。") % {"status": outage.get_status_display()})
        if outage.etr is not None:
            parts.append(_("预计 %(etr)s 恢复供电。") % {"etr": _local_time(outage.etr)})
        else:
            parts.append(_("预计恢复时间正在评估。"))
    elif report.status == Status.NEEDS_RESOLUTION:
        parts.append(
            _("报修已受理，但暂时无法根据您提供的信息确定用电地址，客服人员将尽快与您联系核实。")
        )
    elif report.status == Status.SINGLE_PREMISE:
        parts.append(_("您所在区域未发现其他停电，我们将安排抢修人员上门检查。"))
    elif report.status == Status.CLOSED:
        parts.append(_("该报修已处理完毕。"))
    else:
        parts.append(_("报修已受理，我们正在核实您所在区域的供电情况。"))
    parts.append(_("报修编号：%(reference)s。") % {"reference": report.reference})
    if report.is_danger:
        parts.append(_("请远离断落的电线或冒火花的设备至少 10 米，切勿触碰，我们已安排紧急处理。"))
    separator = " " if is_english() else ""
    return separator.join(str(p) for p in parts)


def _local_time(value: datetime) -> str:
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%m-%d %H:%M}"
