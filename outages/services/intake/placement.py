"""Placing a report, by reads only: merged, pending for the roll-up, nested, or an agent's."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids import selectors as grid_selectors
from grids.models import ServicePoint
from outages import events
from outages.models import Interruption, Outage, TroubleReport
from outages.selectors import outage_for_service_point
from outages.selectors.intake import outage_get_for_report

from ..interruptions import outage_open_nested
from .inputs import ACTOR_LABEL, ReportInput, Status
from .resolution import service_point_for_address, service_point_nearest

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Placement:
    """Where a report goes, decided from reads only (``parent``: open a nested outage)."""

    status: str = Status.RECEIVED
    service_point: ServicePoint | None = None
    outage: Outage | None = None
    parent: Outage | None = None


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
    rows, merged_id = _open_interruptions(service_point.pk)
    if merged_id is not None:
        try:
            return _Placement(
                Status.MERGED, service_point, outage_get_for_report(outage_id=merged_id)
            )
        except Outage.DoesNotExist:  # deleted since the read: as if there were none
            pass
    restored = [(ended_at, outage_id) for ended_at, outage_id in rows if ended_at is not None]
    parent = None
    if restored:
        parent_id = max(restored)[1]  # the latest restoration
        parent = Outage.objects.select_related("type__category").get(pk=parent_id)
    return _Placement(Status.PENDING, service_point, None, parent)


def _open_interruptions(
    service_point_id: int,
) -> tuple[list[tuple[datetime | None, int]], int | None]:
    """``(ended_at, outage_id)`` of the customer's interruptions in active outages, and in
    outages restored within ``OUTAGE_INTAKE_NESTED_WINDOW_MINUTES`` (a call soon after
    restoration means "still off"); and the outage that has the customer out now, chosen as
    ``outages.selectors.outage_for_service_point`` chooses it (the rows come in its order:
    innermost nested first, then the one that cut the customer off first), or None.

    Plain SQL on purpose: it runs for every call of a storm, and building this join through
    the ORM costs ten times the query (bench/intake_throughput.py). Names come from the models.
    Answering the merge from the same rows saves the selector's query on the merged path.
    """
    window = timedelta(minutes=getattr(settings, "OUTAGE_INTAKE_NESTED_WINDOW_MINUTES", 240))
    since = timezone.now() - window
    with connection.cursor() as cursor:
        cursor.execute(_open_interruptions_sql(), [service_point_id])
        rows = cursor.fetchall()
    found: list[tuple[datetime | None, int]] = []
    merged_id: int | None = None
    for ended_at, outage_id, status in rows:
        if ended_at is not None and timezone.is_naive(ended_at):  # SQLite
            ended_at = timezone.make_aware(ended_at, UTC)
        if status in Outage.ACTIVE or (
            status == Outage.Status.RESTORED and ended_at is not None and ended_at >= since
        ):
            found.append((ended_at, outage_id))
            if merged_id is None and ended_at is None:
                merged_id = outage_id
    return found, merged_id


@cache
def _open_interruptions_sql() -> str:
    i_col = functools.partial(_col, Interruption)
    o_col = functools.partial(_col, Outage)
    outage_fk = i_col("outage")
    # Only quoted names from the models are interpolated; the value goes as a parameter. The
    # order is outage_for_service_point's: -depth, already_out_in nulls first, started_at, pk.
    return (
        f"SELECT i.{i_col('ended_at')}, i.{outage_fk}, o.{o_col('status')} "  # noqa: S608
        f"FROM {_table(Interruption)} i JOIN {_table(Outage)} o "
        f"ON o.{o_col('id')} = i.{outage_fk} "
        f"WHERE i.{i_col('service_point')} = %s "
        f"AND i.{i_col('started_at')} IS NOT NULL "
        f"ORDER BY o.{o_col('depth')} DESC, i.{i_col('already_out_in')} ASC NULLS FIRST, "
        f"i.{i_col('started_at')} ASC, i.{i_col('id')} ASC LIMIT 100"
    )


def _col(model: Any, name: str) -> str:
    """The quoted column of ``model``'s field ``name`` (for the plain-SQL reads above)."""
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _publish_danger(report: TroubleReport) -> None:
    """``report.danger`` for a sparks / wire-down call, whatever its placement."""
    events.publish(
        events.REPORT_DANGER,
        report_id=report.pk,
        outage_id=report.outage_id,
        service_point_id=report.service_point_id,
    )


def _request_rollup() -> None:
    from ..rollup_service import rollup_request

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
        return Status.PREDICTED, outage_get_for_report(outage_id=child.pk)
    return Status.PENDING, None
