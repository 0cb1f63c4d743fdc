"""Trace, accountability, remedy and improvement records attached to a complaint."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import trace as trace_engine
from complaints.models import (
    Accountability,
    Complaint,
    ComplaintLink,
    ProcessDefect,
    RemedyContact,
    ServiceStep,
    Trace,
)
from dispatch_center.core.exceptions import DomainError, NotFound
from grids.models import RepairStation
from outages import selectors as outage_selectors
from workorders import selectors as work_selectors

from .common import record_event


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def trace_input_for(complaint: Complaint) -> trace_engine.TraceInput:
    """The plain facts the trace engine reads, from the complaint's linked timelines."""
    links = list(ComplaintLink.objects.filter(complaint=complaint))
    outage_ids = [x.outage_id for x in links if x.outage_id]
    order_ids = [x.work_order_id for x in links if x.work_order_id]
    report_ids = [x.report_id for x in links if x.report_id]
    outages = [
        trace_engine.OutageFacts(
            outage_id=r["outage_id"],
            started_at=r["started_at"],
            restored_at=r["restored_at"],
            etrs=tuple(r["etrs"]),
            customer_started_at=r["customer_started_at"],
            customer_ended_at=r["customer_ended_at"],
        )
        for r in outage_selectors.complaint_outage_trace_facts(
            outage_ids=outage_ids, service_point_id=complaint.service_point_id
        )
    ]
    orders = [
        trace_engine.OrderFacts(**r)
        for r in work_selectors.complaint_work_order_trace_facts(order_ids=order_ids)
    ]
    with_orders = set(work_selectors.complaint_report_ids_with_orders(report_ids=report_ids))
    reports = [
        trace_engine.ReportFacts(
            report_id=r["report_id"],
            received_at=r["received_at"],
            linked=r["linked"] or r["report_id"] in with_orders,
        )
        for r in outage_selectors.complaint_report_facts(report_ids=report_ids)
    ]
    return trace_engine.TraceInput(
        category_code=complaint.category.top.code,
        now=timezone.now(),
        orders=orders,
        outages=outages,
        reports=reports,
    )


@transaction.atomic
def complaint_trace_suggest(*, complaint: Complaint) -> Trace:
    """(Re)compute the suggested step from the linked timelines; keeps a confirmed step."""
    suggestions = trace_engine.suggest(trace_input_for(complaint))
    data = [
        {"step": s.step, "score": round(s.score, 2), "reason": s.reason, "evidence": s.evidence}
        for s in suggestions
    ]
    top = suggestions[0].step if suggestions else ServiceStep.NONE
    trace, created = Trace.objects.get_or_create(
        complaint=complaint, defaults={"suggested_step": top, "suggestions": data, "step": top}
    )
    if not created:
        trace.suggested_step = top
        trace.suggestions = data
        if trace.confirmed_at is None:
            trace.step = top
        trace.full_clean()
        trace.save()
    return trace


@transaction.atomic
def complaint_trace_confirm(
    *, complaint: Complaint, step: str, finding: str = "", actor: User | None = None
) -> Trace:
    """The investigator confirms (or corrects) the step at fault."""
    if step not in ServiceStep.values:
        raise _invalid("step", _("未知的溯源环节：%(s)s。") % {"s": step})
    trace = Trace.objects.filter(complaint=complaint).first() or complaint_trace_suggest(
        complaint=complaint
    )
    trace.step = step
    trace.finding = finding
    trace.confirmed_by = actor
    trace.confirmed_at = timezone.now()
    trace.full_clean()
    trace.save()
    record_event(
        complaint=complaint,
        kind="trace",
        actor=actor,
        reason=finding,
        data={"step": step, "suggested": trace.suggested_step},
    )
    return trace


@transaction.atomic
def complaint_accountability_set(
    *,
    complaint: Complaint,
    nature: str,
    unit: str,
    outcome: str,
    person: str = "",
    manager: str = "",
    station_id: int | None = None,
    points: int = 0,
    note: str = "",
    actor: User | None = None,
) -> Accountability:
    """Record who answers for the complaint. An individual problem is held against the person
    who handled it, a shared one against the unit's manager (each then required)."""
    if nature not in Accountability.Nature.values:
        raise _invalid("nature", _("未知的问责性质。"))
    if outcome not in Accountability.Outcome.values:
        raise _invalid("outcome", _("未知的考核结果。"))
    if not unit.strip():
        raise _invalid("unit", _("请填写责任单位。"))
    if nature == Accountability.Nature.INDIVIDUAL and not person.strip():
        raise _invalid("person", _("个人问题须填写经办人。"))
    if nature == Accountability.Nature.SHARED and not manager.strip():
        raise _invalid("manager", _("共性问题须填写单位负责人。"))
    station = None
    if station_id is not None:
        station = RepairStation.objects.filter(pk=station_id).first()
        if station is None:
            raise _invalid("station", _("供电所不存在。"))
    held_by: dict[str, str] = {
        Accountability.Nature.INDIVIDUAL: person.strip(),
        Accountability.Nature.SHARED: manager.strip(),
    }
    held = held_by.get(nature, "")
    record, _created = Accountability.objects.update_or_create(
        complaint=complaint,
        defaults={
            "nature": nature,
            "unit": unit.strip(),
            "station": station,
            "person": person.strip(),
            "manager": manager.strip(),
            "held_against": held,
            "outcome": outcome,
            "points": points,
            "note": note,
            "assessed_by": actor,
            "assessed_at": timezone.now(),
        },
    )
    record.full_clean()
    record_event(
        complaint=complaint,
        kind="accountability",
        actor=actor,
        reason=note,
        data={"nature": nature, "unit": unit, "held_against": held, "outcome": outcome},
    )
    return record


@transaction.atomic
def complaint_remedy_list_save(
    *,
    complaint: Complaint,
    matches: list[dict[str, object]],
    actor: User | None = None,
) -> int:
    """Put the similar customers ``matches`` (``service_point``, ``distance``, ``features``)
    on the complaint's proactive-contact list; those already on it keep their outcome.
    Returns how many were added."""
    existing = set(
        RemedyContact.objects.filter(complaint=complaint).values_list("service_point_id", flat=True)
    )
    new = [
        RemedyContact(
            complaint=complaint,
            service_point_id=int(m["service_point"]),  # type: ignore[call-overload]
            distance=float(m["distance"]),  # type: ignore[arg-type]
            features=m.get("features") or {},
        )
        for m in matches
        if int(m["service_point"]) not in existing  # type: ignore[call-overload]
    ]
    RemedyContact.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        record_event(complaint=complaint, kind="remedy", actor=actor, data={"added": len(new)})
    return len(new)


@transaction.atomic
def remedy_contact_record(
    *, contact_id: int, outcome: str, note: str = "", actor: User | None = None
) -> RemedyContact:
    """Record the outcome of one proactive contact."""
    contact = RemedyContact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("主动联系记录不存在。"))
    if outcome not in RemedyContact.Outcome.values or outcome == RemedyContact.Outcome.PENDING:
        raise _invalid("outcome", _("请选择联系结果。"))
    contact.outcome = outcome
    contact.note = note
    contact.contacted_by = actor
    contact.contacted_at = timezone.now()
    contact.full_clean()
    contact.save()
    record_event(
        complaint=contact.complaint,
        kind="remedy",
        actor=actor,
        reason=note,
        data={"service_point": contact.service_point_id, "outcome": outcome},
    )
    return contact


@transaction.atomic
def process_defect_create(
    *,
    complaint: Complaint | None,
    step: str,
    description: str,
    owner: str,
    due_on: date | None = None,
    actor: User | None = None,
) -> ProcessDefect:
    """Record a process defect a complaint revealed, with its owner."""
    if step not in ServiceStep.values:
        raise _invalid("step", _("未知的环节。"))
    defect = ProcessDefect(
        complaint=complaint, step=step, description=description, owner=owner, due_on=due_on
    )
    defect.full_clean()
    defect.save()
    if complaint is not None:
        record_event(
            complaint=complaint,
            kind="defect",
            actor=actor,
            reason=description,
            data={"defect": defect.pk, "step": step, "owner": owner},
        )
    return defect


@transaction.atomic
def process_defect_update(
    *, defect_id: int, status: str, improvement: str = "", actor: User | None = None
) -> ProcessDefect:
    """Move a defect along (open → in progress → done); done needs the improvement made."""
    defect = ProcessDefect.objects.select_for_update().filter(pk=defect_id).first()
    if defect is None:
        raise NotFound(_("流程缺陷不存在。"))
    if status not in ProcessDefect.Status.values:
        raise _invalid("status", _("未知的整改状态。"))
    if status == ProcessDefect.Status.DONE and not (improvement or defect.improvement).strip():
        raise _invalid("improvement", _("完成整改须填写改进措施。"))
    defect.status = status
    if improvement:
        defect.improvement = improvement
    defect.done_at = timezone.now() if status == ProcessDefect.Status.DONE else None
    defect.full_clean()
    defect.save()
    return defect
