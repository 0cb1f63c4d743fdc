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
from django.utils.translation import gettext_lazy, pgettext

from complaints import selectors_dashboard as complaint_reads
from dashboard import figures as F
from dashboard import indices as DI
from dashboard import selectors
from dashboard.periods import Period, period_before
from dashboard.selectors import Scope
from grids.selectors import dashboard as grid_reads
from grids.selectors.dashboard import Scopes, dashboard_scopes
from outages.selectors import dashboard as outage_reads

Value = str | float | int | date | None


@dataclass
class Column:
    label: str
    kind: str = "number"  # text, number, percent, date
    figure: str = ""  # the figure key
    definition: str = ""  # shown on hover over the column's header
    digits: int | None = None  # decimals of the Excel cell (one by default)


@dataclass
class Table:
    key: str
    title: str
    chart: str  # line, bar, pie
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)
    definition: str = ""
    row_ids: list[int] = field(default_factory=list)  # the scope of each row (drill-down)
    series: list[int] | None = None  # the columns the chart draws (every value column if None)
    row_definitions: list[str] = field(default_factory=list)  # hover text of each row's name

    @property
    def titled_rows(self) -> list[tuple[list[tuple[Value, bool]], str]]:
        """Each row as (value, is a number column) cells, with the hover text of its first
        cell ("" when none)."""
        titles = self.row_definitions + [""] * (len(self.rows) - len(self.row_definitions))
        numeric = [c.kind != "text" for c in self.columns]
        return [
            (list(zip(row, numeric, strict=True)), title)
            for row, title in zip(self.rows, titles, strict=True)
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "chart": self.chart,
            "columns": [c.label for c in self.columns],
            "kinds": [c.kind for c in self.columns],
            "series": self.series,
            "rows": [[v.isoformat() if isinstance(v, date) else v for v in r] for r in self.rows],
        }


@dataclass(frozen=True)
class Context:
    period: Period
    scope: Scope
    scopes: Scopes


def with_unit(label: str | Promise, unit: str | Promise) -> str:
    """A column header: the figure and its unit, punctuated for the page's language."""
    return _("%(label)s（%(unit)s）") % {"label": label, "unit": unit}


def defined(label: str | Promise, definition: str | Promise) -> str:
    """A figure's name followed by its definition (the tables' hover text)."""
    return _("%(label)s：%(definition)s") % {"label": label, "definition": definition}


def _col(key: str) -> Column:
    fig = F.BY_KEY[key]
    kind = "percent" if fig.combine is F.Combine.SHARE else "number"
    return Column(with_unit(fig.label, fig.unit), kind, key, str(fig.definition))


def _def(*keys: str) -> str:
    return " ".join(defined(F.BY_KEY[k].label, F.BY_KEY[k].definition) for k in keys)


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
    # Every figure (the headline cards show some of them), each with its definition.
    for fig in F.FIGURES:
        if fig.split_of:
            continue
        v = values[fig.key]
        table.rows.append([str(fig.label), str(fig.unit), v.current, v.previous, v.change])
        table.row_definitions.append(str(fig.definition))
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


def _area_names(ctx: Context, column: str) -> dict[int, str]:
    """Names of the rows one level down: the district's grids, else the city's districts."""
    if column == "grid_id":
        return {
            pk: name
            for pk, (name, district) in ctx.scopes.grids.items()
            if district == ctx.scope.district_id
        }
    return dict(ctx.scopes.districts)


def drill_table(ctx: Context) -> Table:
    """The city's districts, a district's grids or a grid's crews (those with orders)."""
    column = ctx.scope.drill_column
    data = selectors.dashboard_by_scope(period=ctx.period, scope=ctx.scope, keys=DRILL_KEYS)
    names: dict[int, str]
    if column == "crew_id":
        names = {pk: name for pk, (name, _grid) in ctx.scopes.crews.items() if pk in data}
    else:
        names = _area_names(ctx, column)
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
    ctx: Context,
    key: str,
    title: str,
    label: str,
    names: dict[str, str],
    chart: str,
    table_key: str = "",
) -> Table:
    """Every known code listed (a count shows 0 when there is none), then any other stored."""
    data = selectors.dashboard_by_dimension(period=ctx.period, scope=ctx.scope, key=key)
    fig = F.BY_KEY[key]
    empty: Value = 0 if fig.combine is F.Combine.SUM else None
    table = Table(
        table_key or key, title, chart, [Column(label, "text"), _col(key)], definition=_def(key)
    )
    ordered = list(names) + sorted(c for c in data if c not in names)
    for code in ordered:
        table.rows.append([names.get(code, code), data.get(code, empty)])
    return table


def channel_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx, "reports", _("报修渠道"), _("渠道"), {k: str(v) for k, v in CHANNELS.items()}, "pie"
    )


def outage_category_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx, "outages", _("停电分类"), _("分类"), outage_reads.outage_category_names(), "bar"
    )


def outage_type_table(ctx: Context) -> Table:
    """The 17 outage types, each listed (0 when none started in the period)."""
    return _dimension_table(
        ctx,
        "outage_types",
        pgettext("dashboard", "停电类型"),
        pgettext("dashboard", "类型"),
        outage_reads.outage_type_names(),
        "bar",
    )


def complaint_category_table(ctx: Context) -> Table:
    return _dimension_table(
        ctx,
        "complaints",
        pgettext("dashboard", "投诉分类"),
        _("分类"),
        complaint_reads.complaint_category_names(),
        "bar",
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


SLA_KEYS = ("arrive_sla", "restore_sla")
STATIONS_AT_CITY = 15


def _sla_split(ctx: Context, by: str) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for key in SLA_KEYS:
        data = selectors.dashboard_by_dimension(
            period=ctx.period, scope=ctx.scope, key=f"{key}_{by}"
        )
        for code, value in data.items():
            out.setdefault(code, {})[key] = value
    return out


def sla_priority_table(ctx: Context) -> Table:
    """Arrival and restoration SLA achievement per priority, every priority listed."""
    data = _sla_split(ctx, "priority")
    table = Table(
        "sla_priority",
        _("按优先级的到达及时率与复电及时率"),
        "bar",
        [Column(_("优先级"), "text"), *(_col(k) for k in SLA_KEYS)],
        definition=_def(*SLA_KEYS),
    )
    for value, name in outage_reads.priority_names().items():
        got = data.get(str(value), {})
        table.rows.append([name, *(got.get(k) for k in SLA_KEYS)])
    return table


def sla_station_table(ctx: Context) -> Table:
    """Arrival and restoration SLA achievement per repair station (the crew's), lowest
    arrival first; for the whole city the 15 lowest stations only."""
    data = _sla_split(ctx, "station")
    names = grid_reads.station_names()
    city = ctx.scope.district_id is None and ctx.scope.grid_id is None
    title = _("到达及时率最低的 15 个服务站") if city else _("按服务站的到达及时率与复电及时率")
    table = Table(
        "sla_station",
        title,
        "bar",
        [Column(_("服务站"), "text"), *(_col(k) for k in SLA_KEYS)],
        definition=_def(*SLA_KEYS),
    )

    def order(item: tuple[str, dict[str, float | None]]) -> tuple[float, float, str]:
        code, v = item
        arrive, restore = v.get("arrive_sla"), v.get("restore_sla")
        return (
            101.0 if arrive is None else arrive,
            101.0 if restore is None else restore,
            names.get(int(code), code),
        )

    ranked = sorted(data.items(), key=order)
    if city:
        ranked = ranked[:STATIONS_AT_CITY]
    for code, v in ranked:
        table.rows.append([names.get(int(code), code), *(v.get(k) for k in SLA_KEYS)])
    return table


POOL_KEYS = ("pool_claim_share", "pool_claim_minutes", "pool_expired")


def pool_table(ctx: Context) -> Table:
    """The grab pool by area: the city's districts, a district's grids, or the grid itself."""
    if ctx.scope.grid_id is not None:
        summary = selectors.dashboard_summary(period=ctx.period, scope=ctx.scope)
        data = {ctx.scope.grid_id: {k: summary[k].current for k in POOL_KEYS}}
        names = {ctx.scope.grid_id: ctx.scopes.grids[ctx.scope.grid_id][0]}
        column = "grid_id"
    else:
        column = ctx.scope.drill_column
        data = selectors.dashboard_by_scope(period=ctx.period, scope=ctx.scope, keys=POOL_KEYS)
        names = _area_names(ctx, column)
    table = Table(
        "pool",
        _("抢单池（按区域）"),
        "bar",
        [Column(str(DRILL_LABELS[column][1]), "text"), *(_col(k) for k in POOL_KEYS)],
        definition=_def(*POOL_KEYS),
    )
    for pk, name in sorted(names.items(), key=lambda kv: kv[1]):
        values = data.get(pk, {})
        table.rows.append(
            [
                name,
                values.get("pool_claim_share"),
                values.get("pool_claim_minutes"),
                values.get("pool_expired") or 0,
            ]
        )
    return table


def _hours(first: date, last: date) -> float:
    """Hours of ``[first, last]`` that have passed (a running period counts to yesterday)."""
    last = min(last, timezone.localdate() - timedelta(days=1))
    return max(0, (last - first).days + 1) * 24.0


def reliability_table(ctx: Context) -> Table:
    """SAIFI, SAIDI, CAIDI, MAIFI and ASAI of the area in the period and the period before,
    then of each district (the city) or grid (a district)."""
    from reliability.selectors_dashboard import dashboard_reliability_totals

    period, before, scope = ctx.period, period_before(ctx.period), ctx.scope
    if scope.grid_id is not None:
        level, area_id, name = "grid", scope.grid_id, ctx.scopes.grids[scope.grid_id][0]
    elif scope.district_id is not None:
        level, area_id = "district", scope.district_id
        name = ctx.scopes.districts.get(scope.district_id, "")
    else:
        level, area_id, name = "city", 0, _("全市")
    table = Table(
        "reliability",
        _("供电可靠性指标"),
        "bar",
        [
            Column(_("区域"), "text"),
            *(
                Column(
                    with_unit(d.key, d.unit),
                    "number",
                    d.key,
                    defined(d.label, d.definition),
                    d.digits,
                )
                for d in DI.INDEXES
            ),
        ],
        definition=" ".join(
            [str(DI.SCOPE_NOTE), *(defined(d.label, d.definition) for d in DI.INDEXES)]
        ),
        series=[1, 2],  # SAIFI and SAIDI: the other indices' scales would flatten them
    )

    def totals(first: date, last: date, lvl: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        return dashboard_reliability_totals(first=first, last=last, scope=lvl, scope_ids=ids)

    now = totals(period.start, period.end, level, [area_id])
    prev = totals(before.start, before.end, level, [area_id])
    hours, hours_before = _hours(period.start, period.end), _hours(before.start, before.end)
    table.rows.append([name, *DI.area_indices(now.get(area_id), hours=hours).values()])
    table.rows.append(
        [
            _("%(name)s（上期）") % {"name": name},
            *DI.area_indices(prev.get(area_id), hours=hours_before).values(),
        ]
    )
    children: dict[int, str] = {}
    if level == "city":
        child_level, children = "district", dict(ctx.scopes.districts)
    elif level == "district":
        child_level = "grid"
        children = {pk: g for pk, (g, d) in ctx.scopes.grids.items() if d == area_id}
    if children:
        got = totals(period.start, period.end, child_level, list(children))
        for pk, child in sorted(children.items(), key=lambda kv: kv[1]):
            table.rows.append([child, *DI.area_indices(got.get(pk), hours=hours).values()])
    return table


def frequent_table(ctx: Context) -> Table:
    """Frequent-outage alerts of the area: new in the period and open now, per level."""
    from reliability.selectors_dashboard import dashboard_frequent_counts

    start, end = selectors.period_bounds(ctx.period)
    counts = dashboard_frequent_counts(
        start=start, end=end, district_id=ctx.scope.district_id, grid_id=ctx.scope.grid_id
    )
    unit = DI.FREQUENT_UNIT
    definition = str(DI.FREQUENT_DEFINITION)
    table = Table(
        "frequent",
        _("频繁停电"),
        "bar",
        [
            Column(_("级别"), "text"),
            Column(with_unit(DI.FREQUENT_NEW, unit), "number", "", definition),
            Column(with_unit(DI.FREQUENT_OPEN, unit), "number", "", definition),
        ],
        definition=definition,
    )
    table.rows = [list(r) for r in DI.frequent_rows(counts)]
    return table


BUILDERS: dict[str, Callable[[Context], Table]] = {
    "summary": summary_table,
    "trend": trend_table,
    "drill": drill_table,
    "reports": channel_table,
    "outages": outage_category_table,
    "outage_types": outage_type_table,
    "sla_priority": sla_priority_table,
    "sla_station": sla_station_table,
    "pool": pool_table,
    "reliability": reliability_table,
    "frequent": frequent_table,
    "complaints": complaint_category_table,
    "handling": handling_table,
    "points_week": points_week_table,
    "points_month": points_month_table,
    "points_total": points_total_table,
}


def build_context(*, period: Period, scope: Scope) -> Context:
    scopes = dashboard_scopes()
    # Districts have English names (grids, stations and crews are named in Chinese only).
    scopes = Scopes(districts=grid_reads.district_names(), grids=scopes.grids, crews=scopes.crews)
    return Context(period=period, scope=scope, scopes=scopes)
