"""The hotline agent's page (95598 seat): find the caller, see the outage, record the call.

- ``GET /agent/?q=`` — search by customer name, account number, phone or address (a single
  hit opens at once); ``&sp=<id>`` opens one
  premise: the customer and the network, the outage that has them out with its timeline, the
  repair order's progress and crew ETA, planned outages, earlier reports and calls, and —
  when the outage is known — the sentence to tell the caller.
- ``POST /agent/calls`` — record the call in one step (fault report through the intake and
  its merge rules, or an enquiry), then back to the premise with what to tell the caller.

Login required; hotline agents, dispatchers and supervisors only (anyone else gets 403).
Server-rendered: ``static/outages/js/agent.js`` only adds conveniences (keyboard, copy).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dispatch_center.core import roles
from dispatch_center.core.exceptions import DomainError, NotFound
from outages.models import CallLog, TroubleReport
from outages.selectors.agent import agent_caller_search, agent_customer_context, agent_overview
from outages.views.public import CREW_STATUS_LABELS, is_valid_phone

AGENT_ROLES = (roles.HOTLINE_AGENT, roles.DISPATCHER, roles.SUPERVISOR)


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login (redirect to it) and one of ``AGENT_ROLES`` (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not roles.has_role(request.user, *AGENT_ROLES):
            raise PermissionDenied(_("只有客服坐席、调度员和主管可以使用坐席工作台。"))
        return view(request, *args, **kwargs)

    return wrapped


class CallForm(forms.Form):
    """One call as the agent records it. Only validates; the service does the work."""

    service_point = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    kind = forms.ChoiceField(
        label=gettext_lazy("来电类型"),
        # A complaint is registered through the complaint form on the page (agent-complaint.js
        # adds its radio button and logs its call through the API), not through this form.
        choices=[c for c in CallLog.Kind.choices if c[0] != CallLog.Kind.COMPLAINT],
        initial=CallLog.Kind.FAULT,
        widget=forms.RadioSelect,
    )
    symptom = forms.ChoiceField(
        label=gettext_lazy("故障现象"),
        choices=TroubleReport.Symptom.choices,
        initial=TroubleReport.Symptom.NO_POWER,
        required=False,
    )
    caller_phone = forms.CharField(label=gettext_lazy("来电号码"), max_length=20)
    note = forms.CharField(
        label=gettext_lazy("备注"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Measured by agent.js from the caller being found to the form being sent.
    handling_seconds = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=86_400
    )

    def clean_caller_phone(self) -> str:
        value = self.cleaned_data["caller_phone"].replace(" ", "")
        if not is_valid_phone(value):
            raise forms.ValidationError(_("请输入有效的手机号码或带区号的固定电话。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == CallLog.Kind.FAULT and not data.get("symptom"):
            self.add_error("symptom", _("请选择故障现象。"))
        return data


def _page_context(request: HttpRequest, form: CallForm | None = None) -> dict[str, Any]:
    q = (request.GET.get("q") or "").strip()[:100]
    context: dict[str, Any] = {
        "q": q,
        "hits": agent_caller_search(q=q) if q else [],
        "searched": bool(q),
        "customer": None,
        "crew_labels": {k: str(v) for k, v in CREW_STATUS_LABELS.items()},
    }
    sp_id = request.GET.get("sp") or (form.data.get("service_point") if form else None)
    if sp_id and str(sp_id).isdigit():
        try:
            customer = agent_customer_context(service_point_id=int(sp_id))
        except NotFound:
            customer = None
        context["customer"] = customer
        if customer is not None:
            # The number searched for is the caller's, unless it was the account number
            # (account numbers look like landlines).
            typed = q.replace(" ", "")
            sp = customer.service_point
            phone = typed if is_valid_phone(typed) and typed != sp.account_no else sp.phone
            context["form"] = form or CallForm(
                initial={"service_point": customer.service_point.pk, "caller_phone": phone}
            )
    if context["customer"] is None:
        # ``agent_required``: always a signed-in user here.
        context["overview"] = agent_overview(agent_id=int(request.user.pk or 0))
    call_id = request.GET.get("call")
    if call_id and call_id.isdigit() and context["customer"] is not None:
        context["last_call"] = next(
            (c for c in context["customer"].calls if c.pk == int(call_id)), None
        )
    return context


@require_http_methods(["GET"])
@agent_required
def agent_home(request: HttpRequest) -> HttpResponse:
    """The agent's page: search, the selected premise, the call form. A search with a
    single hit opens that premise at once."""
    context = _page_context(request)
    if context["searched"] and len(context["hits"]) == 1 and not request.GET.get("sp"):
        query = {"q": context["q"], "sp": context["hits"][0].service_point.pk}
        return HttpResponseRedirect(f"{reverse('agent-home')}?{urlencode(query)}")
    return render(request, "outages/agent.html", context)


@require_POST
@agent_required
def agent_call_create(request: HttpRequest) -> HttpResponse:
    """Record a call (fault report or enquiry) and show what to tell the caller."""
    from outages.selectors.agent import agent_service_point_get
    from outages.services.calls import call_record

    form = CallForm(request.POST)
    q = (request.POST.get("q") or "").strip()[:100]
    if form.is_valid():
        data = form.cleaned_data
        try:
            service_point = agent_service_point_get(service_point_id=data["service_point"])
            result = call_record(
                agent=request.user,  # type: ignore[arg-type]
                service_point=service_point,
                kind=data["kind"],
                caller_phone=data["caller_phone"],
                symptom=data.get("symptom") or TroubleReport.Symptom.NO_POWER,
                note=data.get("note") or "",
                handling_seconds=data.get("handling_seconds"),
            )
        except DomainError as exc:
            for name, errors in (exc.fields or {}).items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            if result.merged:
                messages.success(
                    request,
                    _("已记录来电，报修 %(reference)s 已并入停电事件 %(outage)s，未新建工单。")
                    % {"reference": result.report.reference, "outage": result.outage.pk},  # type: ignore[union-attr]
                )
            elif result.report is not None:
                messages.success(
                    request,
                    _("已记录报修 %(reference)s（%(status)s）。")
                    % {
                        "reference": result.report.reference,
                        "status": result.report.get_status_display(),
                    },
                )
            else:
                messages.success(request, _("已记录咨询来电。"))
            query: dict[str, int | str] = {"sp": service_point.pk, "call": result.call.pk}
            if q:
                query["q"] = q
            return HttpResponseRedirect(f"{reverse('agent-home')}?{urlencode(query)}")
    with_query = request.GET.copy()
    with_query["q"] = q
    request.GET = with_query  # type: ignore[assignment]  # the page context reads it
    return render(request, "outages/agent.html", _page_context(request, form), status=400)
