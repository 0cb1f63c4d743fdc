"""Recording a hotline call in one step: a fault report (through the intake), an enquiry, or
the call in which a complaint was registered (the complaint itself: the complaints app)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import ServicePoint
from outages.models import CallLog, Outage, TroubleReport
from outages.providers import work_progress
from outages.selectors import outage_for_service_point
from outages.selectors.agent import caller_script
from outages.services.intake import ReportInput, report_message, report_submit


@dataclass(frozen=True, slots=True)
class CallResult:
    """The logged call, its report (fault calls) and what to tell the caller."""

    call: CallLog
    report: TroubleReport | None
    outage: Outage | None
    told: str

    @property
    def merged(self) -> bool:
        """The call joined an outage already known (no new repair work was raised)."""
        return self.report is not None and self.report.status == TroubleReport.Status.MERGED


def call_record(
    *,
    agent: User,
    service_point: ServicePoint,
    kind: str,
    caller_phone: str,
    symptom: str = TroubleReport.Symptom.NO_POWER,
    note: str = "",
    handling_seconds: int | None = None,
) -> CallResult:
    """Record one call about ``service_point``: ``fault`` files a hotline trouble report
    through ``report_submit`` (so the intake's merge rules apply: a premise inside a known
    outage is merged into it, no second order), ``enquiry`` only logs the call. Either way a
    ``CallLog`` row keeps what the caller was told: the agent's sentence (cause, crew, ETR)
    when an outage is known, else the intake's answer or "no known outage". ``complaint``
    logs the call of a complaint registered through the complaints app (its reference in
    ``note``). ``handling_seconds`` is what the agent's page measured from finding the caller
    to recording the call (None when the client does not measure it; never negative).

    Not one transaction: ``report_submit`` commits the report first on purpose (a call must
    never be lost to a later failure); the log row is then written in its own.
    """
    if kind not in CallLog.Kind.values:
        raise DomainError(
            _("请选择来电类型。"), code="invalid", fields={"kind": [_("无效的类型。")]}
        )
    if handling_seconds is not None and handling_seconds < 0:
        message = _("处理时长不能为负数。")
        raise DomainError(message, code="invalid", fields={"handling_seconds": [message]})
    report: TroubleReport | None = None
    if kind == CallLog.Kind.FAULT:
        if symptom not in TroubleReport.Symptom.values:
            message = _("请选择故障现象。")
            raise DomainError(message, code="invalid", fields={"symptom": [message]})
        result = report_submit(
            data=ReportInput(
                channel=TroubleReport.Channel.HOTLINE,
                symptom=symptom,
                contact_phone=caller_phone,
                contact_name=service_point.customer_name,
                description=note,
                service_point_id=service_point.pk,
            ),
            actor=agent,
        )
        report = result.report
        outage = report.outage
    else:
        outage = outage_for_service_point(service_point=service_point.pk)

    if outage is not None and (report is None or report.status == TroubleReport.Status.MERGED):
        outage = Outage.objects.select_related("type__category", "cause").get(pk=outage.pk)
        told = caller_script(outage=outage, work=work_progress.progress_for_outage(outage.pk))
    elif report is not None:
        told = report_message(report)
    elif kind == CallLog.Kind.COMPLAINT:
        told = _("您的投诉已登记，我们会按承诺时限与您联系并答复处理结果。")
    else:
        told = _("您好，系统显示您所在区域目前没有已知停电。如家中无电，我们可以为您登记报修。")
    with transaction.atomic():
        call = CallLog(
            kind=kind,
            agent=agent,
            caller_phone=caller_phone,
            service_point=service_point,
            outage=outage,
            report=report,
            note=note,
            told=told,
            handling_seconds=handling_seconds,
            at=timezone.now(),
        )
        call.full_clean()
        call.save()
    return CallResult(call=call, report=report, outage=outage, told=told)
