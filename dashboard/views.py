"""Pages of the supervisors' dashboard (supervisors and admins): the dashboard, the data
dictionary, each table's CSV / Excel download, the printable monthly report, manual points.

Server-rendered; the charts are drawn by ``static/dashboard/js/dashboard.js`` (ECharts, from
``static/vendor/echarts/``) from the same tables the page shows, passed with ``json_script``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dashboard import exports, services, tables
from dashboard import figures as F
from dashboard import indices as DI
from dashboard.models import PointItem
from dashboard.periods import Kind, Period, period_before, period_containing
from dashboard.selectors import Scope
from dispatch_center.core import roles
from dispatch_center.core.exceptions import DomainError

PAGE_TABLES = (
    "summary",
    "trend",
    "drill",
    "sla_priority",
    "sla_station",
    "pool",
    "reports",
    "reliability",
    "frequent",
    "outages",
    "outage_types",
    "complaints",
    "handling",
    "points_week",
    "points_month",
    "points_total",
)
PERIOD_LABELS = {
    Kind.WEEK: gettext_lazy("周"),
    Kind.MONTH: gettext_lazy("月"),
    Kind.YEAR: gettext_lazy("年"),
}


def supervisor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not roles.has_role(request.user, roles.SUPERVISOR):
            raise PermissionDenied(_("只有主管和管理员可以查看统计看板。"))
        return view(request, *args, **kwargs)

    return wrapped


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _parse(request: HttpRequest, default_kind: Kind = Kind.MONTH) -> tuple[Period, Scope]:
    """The period (kind and a day in it; yesterday by default) and scope from the query."""
    try:
        kind = Kind(request.GET.get("period", default_kind))
    except ValueError:
        kind = default_kind
    try:
        day = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate() - timedelta(days=1)
    scopes = tables.dashboard_scopes()
    district, grid = _int(request.GET.get("district")), _int(request.GET.get("grid"))
    if district not in scopes.districts:
        district = None
    if grid not in scopes.grids or (district is not None and scopes.grids[grid][1] != district):
        grid = None
    if grid is not None:
        district = scopes.grids[grid][1]
    return period_containing(kind, day), Scope(district_id=district, grid_id=grid)


def _query(period: Period, scope: Scope, **extra: Any) -> str:
    params: dict[str, Any] = {"period": period.kind.value, "day": period.start.isoformat()}
    if scope.district_id is not None:
        params["district"] = scope.district_id
    if scope.grid_id is not None:
        params["grid"] = scope.grid_id
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


def _cards(ctx: tables.Context) -> list[dict[str, Any]]:
    from dashboard.selectors import dashboard_summary

    values = dashboard_summary(period=ctx.period, scope=ctx.scope)
    return [
        {
            "key": key,
            "label": values[key].figure.label,
            "unit": values[key].figure.unit,
            "definition": values[key].figure.definition,
            "current": values[key].current,
            "previous": values[key].previous,
            "change": values[key].change,
            "verdict": values[key].verdict,
        }
        for key in F.HEADLINE
    ]


def _drill_links(ctx: tables.Context, drill: tables.Table) -> list[str | None]:
    """The link of each drill-down row: a district opens its grids, a grid its crews."""
    if ctx.scope.grid_id is not None:
        return [None] * len(drill.rows)
    if ctx.scope.district_id is None:
        return ["?" + _query(ctx.period, Scope(district_id=pk)) for pk in drill.row_ids]
    return [
        "?" + _query(ctx.period, Scope(district_id=ctx.scope.district_id, grid_id=pk))
        for pk in drill.row_ids
    ]


class AwardForm(forms.Form):
    agent = forms.ModelChoiceField(
        label=gettext_lazy("坐席"),
        queryset=get_user_model()
        .objects.filter(groups__name=roles.HOTLINE_AGENT)
        .order_by("username"),
    )
    item = forms.ModelChoiceField(
        label=gettext_lazy("积分项目"), queryset=PointItem.objects.filter(is_active=True)
    )
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=500)


@supervisor_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    period, scope = _parse(request)
    ctx = tables.build_context(period=period, scope=scope)
    built = [tables.BUILDERS[key](ctx) for key in PAGE_TABLES]
    drill = built[PAGE_TABLES.index("drill")]
    before = period_before(period)
    crumbs: list[tuple[str, str]] = [(_("全市"), "?" + _query(period, Scope()))]
    if scope.district_id is not None:
        crumbs.append(
            (
                ctx.scopes.districts[scope.district_id],
                "?" + _query(period, Scope(scope.district_id)),
            )
        )
    if scope.grid_id is not None:
        crumbs.append((ctx.scopes.grids[scope.grid_id][0], "?" + _query(period, scope)))
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "period": period,
            "before": before,
            "scope": scope,
            "scopes": ctx.scopes,
            "kinds": [(k.value, PERIOD_LABELS[k]) for k in Kind],
            "cards": _cards(ctx),
            "tables": [{"table": t, "export": _query(period, scope, table=t.key)} for t in built],
            "charts": [t.as_json() for t in built],
            "drill_rows": list(zip(drill.rows, _drill_links(ctx, drill), strict=True)),
            "crumbs": crumbs,
            "previous_query": _query(before, scope),
            "next_query": _query(
                period_containing(period.kind, period.end + timedelta(days=1)), scope
            ),
            "report_query": _query(period_containing(Kind.MONTH, period.end), scope),
            "award_form": AwardForm(),
        },
    )


@supervisor_required
def dictionary_page(request: HttpRequest) -> HttpResponse:
    sections: list[dict[str, Any]] = [
        {
            "name": name,
            "figures": [
                {"key": f.key, "label": f.label, "unit": f.unit, "definition": f.definition}
                for f in F.FIGURES
                if f.section == key and not f.split_of
            ],
        }
        for key, name in F.SECTIONS.items()
    ]
    sections.append(
        {
            "name": _("供电可靠性与频繁停电"),
            "note": DI.SCOPE_NOTE,
            "figures": [
                *(
                    {"key": d.key, "label": d.label, "unit": d.unit, "definition": d.definition}
                    for d in DI.INDEXES
                ),
                {
                    "key": "frequent",
                    "label": _("频繁停电"),
                    "unit": DI.FREQUENT_UNIT,
                    "definition": DI.FREQUENT_DEFINITION,
                },
            ],
        }
    )
    return render(request, "dashboard/dictionary.html", {"sections": sections})


@supervisor_required
def export_table(request: HttpRequest, fmt: str) -> HttpResponse:
    key = request.GET.get("table", "")
    if key not in tables.BUILDERS or fmt not in ("csv", "xlsx"):
        raise Http404
    period, scope = _parse(request)
    table = tables.BUILDERS[key](tables.build_context(period=period, scope=scope))
    filename = f"dashboard-{key}-{period.label()}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(exports.table_csv(table), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.table_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@supervisor_required
def monthly_report(request: HttpRequest) -> HttpResponse:
    period, scope = _parse(request, Kind.MONTH)
    period = period_containing(Kind.MONTH, period.start)
    ctx = tables.build_context(period=period, scope=scope)
    keys = (
        "summary",
        "drill",
        "sla_priority",
        "reports",
        "reliability",
        "frequent",
        "outages",
        "outage_types",
        "complaints",
        "points_month",
    )
    return render(
        request,
        "dashboard/report.html",
        {
            "period": period,
            "before": period_before(period),
            "scope_name": (
                ctx.scopes.grids[scope.grid_id][0]
                if scope.grid_id is not None
                else ctx.scopes.districts.get(scope.district_id or 0, _("全市"))
            ),
            "tables": [tables.BUILDERS[k](ctx) for k in keys],
            "generated_at": timezone.localtime(),
        },
    )


@require_POST
@supervisor_required
def award_points(request: HttpRequest) -> HttpResponse:
    form = AwardForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("手动加减分未保存：请选择坐席、积分项目并写明原因。"))
    else:
        try:
            award = services.points_award_manual(
                agent=form.cleaned_data["agent"],
                item=form.cleaned_data["item"],
                reason=form.cleaned_data["reason"],
                awarded_by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("已记录 %(points)s 分。") % {"points": f"{award.points:+d}"}
            )
    return HttpResponseRedirect(reverse("dashboard:page"))
