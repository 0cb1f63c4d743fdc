"""The dashboard's tables: each one feeds a chart, the table beside it, and its CSV and Excel
downloads, so the three always show the same numbers.

A table is columns (label, kind) and rows of plain values; ``kind`` is ``text``, ``number``,
``percent`` or ``date`` so the Excel export writes real number and date cells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.selectors_dashboard import dashboard_complaint_category_names
from dashboard import figures as F
from dashboard import selectors
from dashboard.periods import Period
from dashboard.selectors import Scope
from grids.selectors.dashboard import Scopes, dashboard_scopes
from outages.selectors.dashboard import dashboard_outage_category_names

Value = str | float | int | date | None


@dataclass
class Column:
    label: str
    kind: str = "number"  # text, number, percent, date
    figure: str = ""  # the figure key, for its definition on hover


@dataclass
class Table:
    key: str
    title: str
    chart: str  # line, bar, pie
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)
    definition: str = ""
    row_ids: list[int] = field(default_factory=list)  # the scope of each row (drill-down)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "chart": self.chart,
            "columns": [c.label for c in self.columns],
            "kinds": [c.kind for c in self.columns],
            "rows": [[v.isoformat() if isinstance(v, date) else v for v in r] for r in self.rows],
        }


@dataclass(frozen=True)
class Context:
    period: Period
    scope: Scope
    scopes: Scopes


def _col(key: str) -> Column:
    fig = F.BY_KEY[key]
    kind = "percent" if fig.combine is F.Combine.SHARE else "number"
    return Column(f"{fig.label}（{fig.unit}）", kind, key)


def _def(*keys: str) -> str:
    return " ".join(f"{F.BY_KEY[k].label}：{F.BY_KEY[k].definition}" for k in keys)


def summary_table(ctx: Context) -> Table:
    values = selectors.dashboard_summary(period=ctx.period, scope=ctx.scope)
    table = Table(
        "summary",
        _("主要指标与上期对比"),
        "none",
        [
            Column(_("指标"), "text"),
            Column(_("单位"), "text"),
            Column(_("本期"), "number"),
            Column(_("上期"), "number"),
            Column(_("变化（%）"), "number"),
        ],
    )
    for key in F.HEADLINE:
        v = values[key]
        table.rows.append(
            [str(v.figure.label), str(v.figure.unit), v.current, v.previous, v.change]
        )
    return table


TREND_KEYS = ("orders", "arrive_minutes", "restore_minutes")


def trend_table(ctx: Context) -> Table:
    table = Table(
        "trend",
        _("抢修工单与时长趋势"),
        "line",
        [Column(_("日期"), "date"), *(_col(k) for k in TREND_KEYS)],
        definition=_def(*TREND_KEYS),
    )
    for day, values in selectors.dashboard_trend(
        period=ctx.period, scope=ctx.scope, keys=TREND_KEYS
    ):
        table.rows.append([day, *(values[k] for k in TREND_KEYS)])
    return table


DRILL_KEYS = ("orders", "arrive_minutes", "restore_minutes", "arrive_sla", "restore_sla")


DRILL_LABELS = {
    "district_id": (gettext_lazy("按行政区"), gettext_lazy("行政区")),
    "grid_id": (gettext_lazy("按网格"), gettext_lazy("网格")),
    "crew_id": (gettext_lazy("按班组"), gettext_lazy("班组")),
}


def drill_table(ctx: Context) -> Table:
    """The city's districts, a district's grids or a grid's crews (those with orders)."""
    column = ctx.scope.drill_column
    data = selectors.dashboard_by_scope(period=ctx.period, scope=ctx.scope, keys=DRILL_KEYS)
    names: dict[int, str]
    if column == "crew_id":
        names = {pk: name for pk, (name, _grid) in ctx.scopes.crews.items() if pk in data}
    elif column == "grid_id":
        names = {
            pk: name
            for pk, (name, district) in ctx.scopes.grids.items()
            if district == ctx.scope.district_id
        }
    else:
        names = dict(ctx.scopes.districts)
    title, label = DRILL_LABELS[column]
    table = Table(
        "drill",
        str(title),
        "bar",
        [Column(str(label), "text"), *(_col(k) for k in DRILL_KEYS)],
        definition=_def(*DRILL_KEYS),
    )
    for pk, name in sorted(names.items(), key=lambda kv: kv[1]):
        values = data.get(pk, {})
        table.rows.append([name, *(values.get(k) for k in DRILL_KEYS)])
        table.row_ids.append(pk)
    return table


CHANNELS: dict[str, Promise] = {
    "hotline": gettext_lazy("95598热线"),
    "web": gettext_lazy("网站"),
    "app": gettext_lazy("手机应用"),
    "wechat": gettext_lazy("微信"),
}


def _dimension_table(
    ctx: Context, key: str, title: str, label: str, names: dict[str, str], chart: str
) -> Table:
    data = selectors.dashboard_by_dimension(period=ctx.period, scope=ctx.scope, key=key)
    table = Table(key, title, chart, [Column(label, "text"), _col(key)], definition=_def(key))
    ordered = [c for c in names if c in data] + sorted(c for c in data if c not in names)
    for code in ordered:
        table.rows.append([names.get(code, code), data[code]])
    return table


def channel_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx, "reports", _("报修渠道"), _("渠道"), {k: str(v) for k, v in CHANNELS.items()}, "pie"
    )


def outage_category_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx, "outages", _("停电分类"), _("分类"), dashboard_outage_category_names(), "bar"
    )


def complaint_category_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx, "complaints", _("投诉分类"), _("分类"), dashboard_complaint_category_names(), "bar"
    )


def handling_table(ctx: Context) -> Table:
    data = selectors.dashboard_by_dimension(
        period=ctx.period, scope=ctx.scope, key="handling_seconds"
    )
    names = selectors.agent_names([int(k) for k in data])
    table = Table(
        "handling",
        _("坐席平均通话处理时长"),
        "bar",
        [Column(_("坐席"), "text"), _col("handling_seconds")],
        definition=_def("handling_seconds"),
    )
    for agent_id, value in sorted(data.items(), key=lambda kv: kv[1] or 0):
        table.rows.append([names.get(int(agent_id), agent_id), value])
    return table


def _ranking_table(key: str, title: str, rows: list[selectors.RankRow]) -> Table:
    names = selectors.agent_names([r.agent_id for r in rows])
    table = Table(
        key,
        title,
        "bar",
        [Column(_("名次"), "number"), Column(_("坐席"), "text"), Column(_("积分"), "number")],
        definition=_(
            "坐席积分：按质量、效率、态度三类积分项目，由系统记录的事件自动加分，"
            "或由管理员写明原因手动加减分。"
        ),
    )
    table.rows = [[r.rank, names.get(r.agent_id, str(r.agent_id)), r.points] for r in rows]
    return table


def _anchor(ctx: Context) -> date:
    """The day the rankings are for: the period's last day, or yesterday in a running one."""
    return min(ctx.period.end, timezone.localdate() - timedelta(days=1))


def points_week_table(ctx: Context) -> Table:
    rows = selectors.points_weekly_ranking(day=_anchor(ctx))
    return _ranking_table("points_week", _("坐席积分周排名"), rows)


def points_month_table(ctx: Context) -> Table:
    rows = selectors.points_monthly_top(day=_anchor(ctx))
    return _ranking_table("points_month", _("坐席积分月度前十"), rows)


def points_total_table(ctx: Context) -> Table:
    return _ranking_table("points_total", _("坐席累计积分"), selectors.points_ranking())


BUILDERS: dict[str, Callable[[Context], Table]] = {
    "summary": summary_table,
    "trend": trend_table,
    "drill": drill_table,
    "reports": channel_table,
    "outages": outage_category_table,
    "complaints": complaint_category_table,
    "handling": handling_table,
    "points_week": points_week_table,
    "points_month": points_month_table,
    "points_total": points_total_table,
}


def build_context(*, period: Period, scope: Scope) -> Context:
    return Context(period=period, scope=scope, scopes=dashboard_scopes())
