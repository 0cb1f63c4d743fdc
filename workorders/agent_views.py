"""The hotline agent's page, the part the work-orders app serves: the return visit on a closed
order (``POST /agent/return-visits``). The page itself is ``outages.views.agent``; it shows the
premise's closed orders through ``outages.providers.return_visits``."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dispatch_center.core.exceptions import DomainError
from outages.selectors.agent import agent_service_point_get
from outages.views.agent import agent_required
from workorders.selectors.satisfaction import closed_order_for_service_point
from workorders.services import work_order_satisfaction_record


class ReturnVisitForm(forms.Form):
    """One return visit as the agent records it. Only validates; the service does the work."""

    order = forms.IntegerField(min_value=1)
    service_point = forms.IntegerField(min_value=1)
    satisfied = forms.TypedChoiceField(
        label=gettext_lazy("用户是否满意"),
        choices=[("yes", gettext_lazy("满意")), ("no", gettext_lazy("不满意"))],
        coerce=lambda v: v == "yes",
    )
    note = forms.CharField(label=gettext_lazy("回访记录"), required=False, max_length=1000)


@require_POST
@agent_required
def return_visit_create(request: HttpRequest) -> HttpResponse:
    """Record the customer's satisfaction with a closed order, then back to the premise."""
    form = ReturnVisitForm(request.POST)
    q = (request.POST.get("q") or "").strip()[:100]
    sp_id = request.POST.get("service_point") or ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            sp = agent_service_point_get(service_point_id=data["service_point"])
            order = closed_order_for_service_point(order_id=data["order"], service_point_id=sp.pk)
            if order is None:
                raise DomainError(_("该用户没有这张已归档的工单。"), code="invalid")
            user = request.user
            work_order_satisfaction_record(
                order=order,
                service_point=sp,
                actor=user if isinstance(user, User) else None,
                satisfied=data["satisfied"],
                note=data.get("note") or "",
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已记录工单 #%(id)s 的回访。") % {"id": order.pk})
    else:
        messages.error(request, _("请选择用户是否满意。"))
    query = {"sp": sp_id} | ({"q": q} if q else {})
    return HttpResponseRedirect(f"{reverse('agent-home')}?{urlencode(query)}#return-visits")
