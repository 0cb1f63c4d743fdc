"""Placing a report later: the sweeper (``received``) and an agent (``needs_resolution``)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, NotFound
from grids.models import ServicePoint
from outages.models import TroubleReport

from .inputs import Status
from .placement import _open_nested, _placement_for, _publish_danger, _request_rollup
from .resolution import _resolve

logger = logging.getLogger(__name__)


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
        _publish_danger(report)
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
