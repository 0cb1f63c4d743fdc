"""Placing a report, by reads only: merged, pending for the roll-up, nested, or an agent's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids import selectors as grid_selectors
from grids.models import ServicePoint
from outages import events
from outages.models import Outage, TroubleReport
from outages.selectors import outage_for_service_point
from outages.selectors.intake import (
    PremiseInterruption,
    outage_for_report,
    outage_get_for_report,
    premises_with_interruptions,
)

from ..interruptions import outage_open_nested
from .inputs import ACTOR_LABEL, ReportInput, Status
from .resolution import exact_address_query, service_point_by_search, service_point_nearest_query

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Placement:
    """Where a report goes, decided from reads only (``parent``: open a nested outage)."""

    status: str = Status.RECEIVED
    service_point: ServicePoint | None = None
    outage: Outage | None = None
    parent: Outage | None = None


def _placement_of_input(data: ReportInput) -> _Placement:
    """Find the premise of ``data`` and place the report. For an account, coordinates or an
    exact address the premise and its interruptions come in one query
    (``premises_with_interruptions``); an address that needs the search takes its tiers and
    a staff-given service point its row, then one query for the interruptions."""
    if data.service_point_id is not None:
        return _placement_for(ServicePoint.objects.filter(pk=data.service_point_id).first())
    if data.account_no:
        query = grid_selectors.service_point_for_account_query(data.account_no)
    elif data.lat is not None and data.lng is not None:
        query = service_point_nearest_query(lat=data.lat, lng=data.lng)
    elif data.address:
        query = exact_address_query(data.address)
        if query is not None:
            found = premises_with_interruptions(query=query)
            if len(found) == 1:
                return _placement_from(*found[0])
            if found:
                return _placement_for(None)  # several premises share the address: ask
            return _placement_for(service_point_by_search(data.address))
    else:
        query = None
    found = premises_with_interruptions(query=query) if query is not None else []
    return _placement_from(*found[0]) if found else _placement_for(None)


def _placement_for(service_point: ServicePoint | None) -> _Placement:
    """Merged into the outage that has the customer out (``outage_for_service_point``); else
    pending, with the outage that restored the customer (still off: nested) if there is one.

    Reads only: one query for the interruptions, one more for a merged outage unless this
    process holds its current version (``outage_for_report``).
    """
    if service_point is None:
        return _Placement(status=Status.NEEDS_RESOLUTION)
    found = premises_with_interruptions(
        query=grid_selectors.service_point_by_id_query(service_point.pk)
    )
    return _placement_from(service_point, found[0][1] if found else [])


def _placement_from(
    service_point: ServicePoint, interruptions: list[PremiseInterruption]
) -> _Placement:
    """The placement of a premise with these interruptions (``premises_with_interruptions``):
    merged into the outage that has the customer out now, chosen as
    ``outages.selectors.outage_for_service_point`` chooses it (the first open interruption of
    an active outage in that order); else pending, with the outage that restored the
    customer within ``OUTAGE_INTAKE_NESTED_WINDOW_MINUTES`` (a call soon after restoration
    means "still off": a nested outage) if there is one.
    """
    window = timedelta(minutes=getattr(settings, "OUTAGE_INTAKE_NESTED_WINDOW_MINUTES", 240))
    since = timezone.now() - window
    out_in = next(
        (r for r in interruptions if r.ended_at is None and r.outage_status in Outage.ACTIVE),
        None,
    )
    if out_in is not None:
        try:
            outage = outage_for_report(outage_id=out_in.outage_id, version=out_in.outage_version)
        except Outage.DoesNotExist:  # deleted since the read: as if there were none
            pass
        else:
            return _Placement(Status.MERGED, service_point, outage)
    restored = [
        (row.ended_at, row.outage_id)
        for row in interruptions
        if row.ended_at is not None
        and (row.outage_status in Outage.ACTIVE or row.ended_at >= since)
    ]
    parent = None
    if restored:
        parent_id = max(restored)[1]  # the latest restoration
        parent = Outage.objects.select_related("type__category").get(pk=parent_id)
    return _Placement(Status.PENDING, service_point, None, parent)


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
