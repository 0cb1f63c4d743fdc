"""Pages of the complaint desk: the list, one complaint's file (timeline, links, trace,
accountability, similar customers, defects, actions) and the bulletin (旬报 / monthly).

Server-rendered; every write goes through ``complaints.services``. Staff roles may read and
register; the investigation (status, trace, accountability, remedy, defects) is for
dispatchers and supervisors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from complaints import selectors, services
from complaints.models import (
    Accountability,
    Complaint,
    ComplaintCategory,
    ProcessDefect,
    RemedyContact,
    ServiceStep,
)
from dispatch_center.core import roles
from dispatch_center.core.exceptions import DomainError

STAFF = (roles.HOTLINE_AGENT, roles.DISPATCHER, roles.SUPERVISOR)
INVESTIGATORS = (roles.DISPATCHER, roles.SUPERVISOR)
DEFAULT_RADIUS = 1.5


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not roles.has_role(request.user, *STAFF):
            raise PermissionDenied(_("只有客服坐席、调度员和主管可以使用投诉工作台。"))
        return view(request, *args, **kwargs)

    return wrapped


class ComplaintForm(forms.Form):
    """A complaint entered at the desk (other channels, public opinion)."""

    account_no = forms.CharField(label=gettext_lazy("户号"), max_length=32, required=False)
    area = forms.CharField(label=gettext_lazy("涉及区域（舆情）"), max_length=200, required=False)
    category = forms.ChoiceField(label=gettext_lazy("投诉分类"))
    channel = forms.ChoiceField(label=gettext_lazy("渠道"), choices=Complaint.Channel.choices)
    phone = forms.CharField(label=gettext_lazy("联系电话"), max_length=20, required=False)
    text = forms.CharField(
        label=gettext_lazy("投诉内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            (c.code, str(c)) for c in selectors.category_list() if c.parent_id
        ]


@staff_required
@require_http_methods(["GET", "POST"])
def complaint_desk(request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(request.POST or None, initial={"channel": Complaint.Channel.STAFF})
    if request.method == "POST" and form.is_valid():
        v = form.cleaned_data
        try:
            c = services.complaint_create(
                category_code=v["category"],
                channel=v["channel"],
                text=v["text"],
                phone=v["phone"],
                account_no=v["account_no"],
                area=v["area"],
                actor=request.user,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            for field, errs in exc.fields.items():
                form.add_error(field if field in form.fields else None, errs)
        else:
            messages.success(request, _("已登记投诉 %(ref)s。") % {"ref": c.reference})
            return HttpResponseRedirect(reverse("complaint-detail-page", args=[c.pk]))
    filters = {
        "status": [s for s in request.GET.getlist("status") if s in Complaint.Status.values],
        "risk": request.GET.get("risk", ""),
        "q": request.GET.get("q", ""),
        "open": request.GET.get("open") == "1",
        "overdue": request.GET.get("overdue") == "1",
    }
    complaints = list(selectors.complaint_list(filters=filters)[:200])
    return render(
        request,
        "complaints/desk.html",
        {
            "complaints": complaints,
            "filters": filters,
            "form": form,
            "statuses": Complaint.Status.choices,
            "risks": Complaint.Risk.choices,
            "now": timezone.now(),
            "can_investigate": roles.has_role(request.user, *INVESTIGATORS),
        },
    )


def _radius(request: HttpRequest) -> float:
    try:
        value = float(request.GET.get("radius", DEFAULT_RADIUS))
    except ValueError:
        return DEFAULT_RADIUS
    return min(max(value, 0.0), 10.0)


@staff_required
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    c = selectors.complaint_get_detail(complaint_id=complaint_id)
    trace = getattr(c, "trace", None)
    if trace is None and roles.has_role(request.user, *INVESTIGATORS):
        trace = services.complaint_trace_suggest(complaint=c)
    radius = _radius(request)
    similar: list[dict[str, Any]] = []
    if c.service_point_id:
        similar = selectors.complaint_similar_customers(complaint=c, radius=radius, limit=50)
    remedies = list(c.remedies.all())
    on_list = {r.service_point_id for r in remedies}
    accountability = getattr(c, "accountability", None)
    return render(
        request,
        "complaints/detail.html",
        {
            "c": c,
            "events": list(c.events.all()),
            "links": list(c.links.all()),
            "flags": list(c.flags.all()),
            "trace": trace,
            "accountability": accountability,
            "remedies": remedies,
            "similar": [dict(s, on_list=s["service_point"] in on_list) for s in similar],
            "radius": radius,
            "defects": list(c.defects.all()),
            "next_statuses": [
                (s, Complaint.Status(s).label)
                for s in Complaint.Status.values
                if s in Complaint.ALLOWED_TRANSITIONS[c.status]
            ],
            "close_blockers": services.close_blockers(c),
            "steps": ServiceStep.choices,
            "natures": Accountability.Nature.choices,
            "outcomes": Accountability.Outcome.choices,
            "remedy_outcomes": [
                o for o in RemedyContact.Outcome.choices if o[0] != RemedyContact.Outcome.PENDING
            ],
            "defect_statuses": ProcessDefect.Status.choices,
            "can_investigate": roles.has_role(request.user, *INVESTIGATORS),
        },
    )


def _act_transition(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    c.version = int(p.get("version") or c.version)
    services.complaint_transition(
        complaint=c,
        to=p.get("to", ""),
        actor=user,
        reason=p.get("reason", ""),
        reply=p.get("reply", ""),
    )
    return str(_("状态已更新。")), ""


def _act_trace(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    services.complaint_trace_confirm(
        complaint=c, step=p.get("step", ""), finding=p.get("finding", ""), actor=user
    )
    return str(_("溯源已确认。")), ""


def _act_accountability(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    services.complaint_accountability_set(
        complaint=c,
        nature=p.get("nature", ""),
        unit=p.get("unit", ""),
        outcome=p.get("outcome", ""),
        person=p.get("person", ""),
        manager=p.get("manager", ""),
        points=int(p.get("points") or 0),
        note=p.get("note", ""),
        actor=user,
    )
    return str(_("问责已记录。")), ""


def _act_remedy_list(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    radius = float(p.get("radius") or DEFAULT_RADIUS)
    matches = selectors.complaint_similar_customers(complaint=c, radius=radius, limit=50)
    n = services.complaint_remedy_list_save(complaint=c, matches=matches, actor=user)
    return str(_("已加入主动联系名单 %(n)s 户。") % {"n": n}), f"?radius={radius}"


def _act_remedy_outcome(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    services.remedy_contact_record(
        contact_id=int(p.get("contact") or 0),
        outcome=p.get("outcome", ""),
        note=p.get("note", ""),
        actor=user,
    )
    return str(_("联系结果已记录。")), ""


def _act_defect(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    services.process_defect_create(
        complaint=c,
        step=p.get("step", ""),
        description=p.get("description", ""),
        owner=p.get("owner", ""),
        actor=user,
    )
    return str(_("流程缺陷已登记。")), ""


def _act_defect_update(c: Any, p: QueryDict, user: Any) -> tuple[str, str]:
    services.process_defect_update(
        defect_id=int(p.get("defect") or 0),
        status=p.get("status", ""),
        improvement=p.get("improvement", ""),
        actor=user,
    )
    return str(_("整改状态已更新。")), ""


_ACTIONS: dict[str, Callable[[Any, QueryDict, Any], tuple[str, str]]] = {
    "transition": _act_transition,
    "trace": _act_trace,
    "accountability": _act_accountability,
    "remedy_list": _act_remedy_list,
    "remedy_outcome": _act_remedy_outcome,
    "defect": _act_defect,
    "defect_update": _act_defect_update,
}


@staff_required
@require_POST
def complaint_action(request: HttpRequest, complaint_id: int) -> HttpResponse:
    """One investigation step from the complaint's page, then back to it."""
    if not roles.has_role(request.user, *INVESTIGATORS):
        raise PermissionDenied(_("只有调度员和主管可以处理投诉。"))
    c = selectors.complaint_get(complaint_id=complaint_id)
    back = reverse("complaint-detail-page", args=[c.pk])
    act = _ACTIONS.get(request.POST.get("action", ""))
    if act is None:
        messages.error(request, _("未知的操作。"))
        return HttpResponseRedirect(back)
    try:
        done, suffix = act(c, request.POST, request.user)
        messages.success(request, done)
        back += suffix
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:  # a full_clean refusal inside a service
        messages.error(request, "; ".join(exc.messages))
    except ValueError:
        messages.error(request, _("输入有误。"))
    return HttpResponseRedirect(back)


@staff_required
def complaint_bulletin_page(request: HttpRequest) -> HttpResponse:
    """The ten-day bulletin (旬报) or the monthly assessment for the period containing
    ``date`` (default today)."""
    kind = "month" if request.GET.get("period") == "month" else "ten"
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    start, end = selectors.month_period(day) if kind == "month" else selectors.ten_day_period(day)
    data = selectors.complaint_bulletin(start=start, end=end)
    return render(
        request,
        "complaints/bulletin.html",
        {
            "data": data,
            "kind": kind,
            "day": day,
            "start": start,
            "end": end,
            "categories": ComplaintCategory.objects.filter(parent__isnull=True),
        },
    )
