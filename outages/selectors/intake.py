"""Reads for the trouble report intake and the public API. Relations are loaded up front."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from outages.models import Outage, OutageEvent, TroubleReport

_REPORT_RELATED = ("outage__type__category", "outage__cause", "service_point")


def report_get_by_reference(*, reference: str) -> TroubleReport:
    """The report with this reference (and its outage); ``NotFound``."""
    report = (
        TroubleReport.objects.select_related(*_REPORT_RELATED).filter(reference=reference).first()
    )
    if report is None:
        raise NotFound(_("没有找到报修编号 %(reference)s。") % {"reference": reference})
    return report


def outage_get_for_report(*, outage_id: int) -> Outage:
    """The outage a report is placed in, with the relations a report's answers read (type and
    category, cause: as ``report_get`` loads them); ``DoesNotExist``."""
    return Outage.objects.select_related("type__category", "cause").get(pk=outage_id)


def report_get(*, report_id: int) -> TroubleReport:
    """One report by id (staff), with its service point and outage; ``NotFound``."""
    report = TroubleReport.objects.select_related(*_REPORT_RELATED).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("报修 %(id)s 不存在。") % {"id": report_id})
    return report


def report_list(*, status: str | None = None) -> QuerySet[TroubleReport]:
    """Reports, newest first, optionally of one status (``needs_resolution`` for agents)."""
    qs = TroubleReport.objects.select_related(*_REPORT_RELATED).order_by("-received_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    return qs


def outage_public_progress(*, outage_id: int) -> list[tuple[str, datetime]]:
    """The statuses an outage went through, oldest first: ``[(status, at), ...]``."""
    return list(
        OutageEvent.objects.filter(
            outage_id=outage_id,
            kind__in=(OutageEvent.Kind.CREATED, OutageEvent.Kind.STATUS_CHANGED),
        )
        .exclude(to_status="")
        .order_by("at", "pk")
        .values_list("to_status", "at")
    )
