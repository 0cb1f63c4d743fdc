"""Outages a dispatcher enters by hand: a fault seen on the map or told by a set of calls.

The roll-up engine raises an outage once enough callers under one device have called; a
dispatcher often knows sooner (a crew on the phone, a device seen on the map, three calls from
one street). ``outage_declare_by_hand`` declares it at once, confirmed, at the device chosen or
at the lowest device above every caller's premise, and merges the chosen calls into it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids import selectors as grid_selectors
from grids.models import Device
from outages.models import Outage, OutageCategory, OutageCause, OutageType, TroubleReport

from .lifecycle import outage_create
from .rollup_service import reports_merge_into

ReportStatus = TroubleReport.Status
# Calls that may still be merged into an outage declared by hand.
MERGEABLE = (
    ReportStatus.RECEIVED,
    ReportStatus.PENDING,
    ReportStatus.SINGLE_PREMISE,
    ReportStatus.NEEDS_RESOLUTION,
)


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def lowest_common_device(reports: Sequence[TroubleReport]) -> Device:
    """The lowest device whose supply covers every report's premise (``DomainError`` 400 when
    a report has no premise or the premises share no energised device)."""
    paths: list[list[Device]] = []
    for report in reports:
        if report.service_point is None:
            raise _invalid(
                "reports", _("报修 %(ref)s 尚未定位到用户。") % {"ref": report.reference}
            )
        paths.append(grid_selectors.service_point_upstream_path(service_point=report.service_point))
    common = set.intersection(*({d.pk for d in path} for path in paths)) if paths else set()
    # Paths run bottom first: the first shared device of any path is the lowest one.
    device = next((d for d in paths[0] if d.pk in common), None) if paths else None
    if device is None:
        raise _invalid("reports", _("所选报修不在同一供电路径上，请在地图上选择设备。"))
    return device


@transaction.atomic
def outage_declare_by_hand(
    *,
    type: OutageType,
    actor: User | None,
    device: Device | None = None,
    reports: Sequence[TroubleReport] = (),
    cause: OutageCause | None = None,
    description: str = "",
    reason: str = "",
) -> Outage:
    """Declare a confirmed fault outage at ``device``, or at the lowest device above every
    premise of ``reports`` (both: the device wins), and merge those calls into it.

    Fault types only (planned ones go through ``planned_outage_create``). The outage starts at
    the first call, else now; its customers are computed from the network below the device
    (``outage_create``), which publishes ``outage.confirmed`` so that a repair order is raised.
    """
    if type.category.code in OutageCategory.SCHEDULED_CODES:
        raise _invalid("type", _("计划、临时停电请用“发布计划停电”。"))
    if device is None and not reports:
        raise _invalid("device", _("请在地图上选择设备，或选择几条报修。"))
    for report in reports:
        if report.status not in MERGEABLE:
            raise _invalid("reports", _("报修 %(ref)s 已处理。") % {"ref": report.reference})
    device = device or lowest_common_device(reports)
    now = timezone.now()
    started_at = min((r.received_at for r in reports), default=now)
    outage = outage_create(
        type=type,
        device=device,
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        started_at=min(started_at, now),
        actor=actor,
        cause=cause,
        description=description,
        reason=reason or _("调度员手工录入故障停电"),
    )
    if reports:
        TroubleReport.objects.filter(pk__in=[r.pk for r in reports], status__in=MERGEABLE).update(
            status=ReportStatus.MERGED, outage=outage, updated_at=now
        )
    reports_merge_into(outage=outage, now=now)
    return outage
