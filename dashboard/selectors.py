"""Reads of the dashboard: the stored daily figures of a period and scope, and agent points.

Every read here touches only ``DailyFigure`` and ``PointAward`` (small tables), never the
operational tables; ``dashboard_summary`` is the page's main query (one grouped query for
the period and the period before).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Sum

from dashboard import figures as F
from dashboard.models import DailyFigure, PointAward
from dashboard.periods import Kind as PeriodKind
from dashboard.periods import Period, period_before, period_containing
from dashboard.points import RankRow, rank


@dataclass(frozen=True)
class Scope:
    """The filter of the page: the whole city, a district, or a grid (of that district)."""

    district_id: int | None = None
    grid_id: int | None = None

    def filter(self, qs: QuerySet[DailyFigure]) -> QuerySet[DailyFigure]:
        """The rows of this scope's own level (the city's, a district's or a grid's)."""
        if self.grid_id is not None:
            return qs.filter(level=DailyFigure.Level.GRID, grid_id=self.grid_id)
        if self.district_id is not None:
            return qs.filter(level=DailyFigure.Level.DISTRICT, district_id=self.district_id)
        return qs.filter(level=DailyFigure.Level.CITY)

    def drill_filter(self, qs: QuerySet[DailyFigure]) -> QuerySet[DailyFigure]:
        """The rows of the level below: the city's districts, a district's grids, a grid's
        crews."""
        if self.grid_id is not None:
            return qs.filter(level=DailyFigure.Level.CREW, grid_id=self.grid_id)
        if self.district_id is not None:
            return qs.filter(level=DailyFigure.Level.GRID, district_id=self.district_id)
        return qs.filter(level=DailyFigure.Level.DISTRICT)

    @property
    def drill_column(self) -> str:
        """The column the page drills into: districts of the city, grids of a district, crews
        of a grid."""
        if self.grid_id is not None:
            return "crew_id"
        return "grid_id" if self.district_id is not None else "district_id"


@dataclass(frozen=True)
class FigureValue:
    figure: F.Figure
    current: float | None
    previous: float | None

    @property
    def change(self) -> float | None:
        return F.change_percent(self.current, self.previous)

    @property
    def verdict(self) -> str:
        return F.verdict(self.figure, self.change)


def _rows(period_first: date, period_last: date, scope: Scope) -> QuerySet[DailyFigure]:
    return scope.filter(DailyFigure.objects.filter(day__gte=period_first, day__lte=period_last))


SUMMARY_KEYS = tuple(f.key for f in F.FIGURES if not f.split_of)


def dashboard_summary(*, period: Period, scope: Scope) -> dict[str, FigureValue]:
    """Every figure's value in ``period`` and in the period before, for ``scope``."""
    before = period_before(period)
    now = Q(day__gte=period.start)
    sums = (
        _rows(before.start, period.end, scope)
        # the splits (by priority, station, type) repeat their figure's cases
        .filter(figure__in=SUMMARY_KEYS)
        .order_by()
        .values("figure")
        .annotate(
            t=Sum("total", filter=now),
            c=Sum("count", filter=now),
            tp=Sum("total", filter=~now),
            cp=Sum("count", filter=~now),
        )
    )
    by_key = {r["figure"]: r for r in sums}
    out: dict[str, FigureValue] = {}
    for fig in F.FIGURES:
        r: Mapping[str, Any] = by_key.get(fig.key, {})
        out[fig.key] = FigureValue(
            fig,
            F.figure_value(fig, r.get("t") or 0.0, r.get("c") or 0.0),
            F.figure_value(fig, r.get("tp") or 0.0, r.get("cp") or 0.0),
        )
    return out


def dashboard_by_scope(
    *, period: Period, scope: Scope, keys: tuple[str, ...]
) -> dict[int, dict[str, float | None]]:
    """Figures ``keys`` per district (the city), grid (a district) or crew (a grid):
    id → key → value.
    Rows stored without that scope (a report not located, an order with no crew) are left
    out of the drill-down but counted in the summary."""
    column = scope.drill_column
    rows = DailyFigure.objects.filter(day__gte=period.start, day__lte=period.end)
    sums = (
        scope.drill_filter(rows)
        .filter(figure__in=keys, **{f"{column}__isnull": False})
        .order_by()
        .values(column, "figure")
        .annotate(t=Sum("total"), c=Sum("count"))
    )
    out: dict[int, dict[str, float | None]] = defaultdict(dict)
    for r in sums:
        out[r[column]][r["figure"]] = F.figure_value(F.BY_KEY[r["figure"]], r["t"], r["c"])
    return dict(out)


def dashboard_trend(
    *, period: Period, scope: Scope, keys: tuple[str, ...]
) -> list[tuple[date, dict[str, float | None]]]:
    """Figures ``keys`` per day (a week or month) or per month (a year), every bucket listed."""
    sums = (
        _rows(period.start, period.end, scope)
        .filter(figure__in=keys)
        .order_by()
        .values("day", "figure")
        .annotate(t=Sum("total"), c=Sum("count"))
    )
    monthly = period.kind is PeriodKind.YEAR

    def bucket(day: date) -> date:
        return day.replace(day=1) if monthly else day

    acc: dict[date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for r in sums:
        cell = acc[bucket(r["day"])][r["figure"]]
        cell[0] += r["t"]
        cell[1] += r["c"]
    buckets: list[date] = []
    day = period.start
    while day <= period.end:
        if not buckets or buckets[-1] != bucket(day):
            buckets.append(bucket(day))
        day += timedelta(days=1)
    return [
        (b, {k: F.figure_value(F.BY_KEY[k], *acc[b][k]) if k in acc[b] else None for k in keys})
        for b in buckets
    ]


def dashboard_by_dimension(*, period: Period, scope: Scope, key: str) -> dict[str, float | None]:
    """Figure ``key`` per dimension (channel, category, agent) in ``period``."""
    sums = (
        _rows(period.start, period.end, scope)
        .filter(figure=key)
        .exclude(dimension="")
        .order_by()
        .values("dimension")
        .annotate(t=Sum("total"), c=Sum("count"))
    )
    return {r["dimension"]: F.figure_value(F.BY_KEY[key], r["t"], r["c"]) for r in sums}


def dashboard_data_days() -> tuple[date | None, date | None]:
    """The first and last day that have stored figures."""
    first = DailyFigure.objects.order_by("day").values_list("day", flat=True).first()
    last = DailyFigure.objects.order_by("-day").values_list("day", flat=True).first()
    return first, last


# --- agent points ---------------------------------------------------------------------------


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return (
        datetime.combine(first, time.min, tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
    )


def period_bounds(period: Period) -> tuple[datetime, datetime]:
    """The aware local start of ``period``'s first day and of the day after its last."""
    return _bounds(period.start, period.end)


def _totals(qs: QuerySet[PointAward]) -> dict[int, int]:
    return {
        r["agent_id"]: int(r["p"])
        for r in qs.order_by().values("agent_id").annotate(p=Sum("points"))
    }


def points_ranking(*, first: date | None = None, last: date | None = None) -> list[RankRow]:
    """Agents ranked by points awarded from ``first`` to ``last`` (all time when omitted:
    the running total, never reset)."""
    qs = PointAward.objects.all()
    if first is not None and last is not None:
        start, end = _bounds(first, last)
        qs = qs.filter(awarded_at__gte=start, awarded_at__lt=end)
    return rank(_totals(qs))


def points_weekly_ranking(*, day: date) -> list[RankRow]:
    week = period_containing(PeriodKind.WEEK, day)
    return points_ranking(first=week.start, last=week.end)


def points_monthly_top(*, day: date, limit: int = 10) -> list[RankRow]:
    month = period_containing(PeriodKind.MONTH, day)
    return points_ranking(first=month.start, last=month.end)[:limit]


def agent_names(ids: set[int] | list[int]) -> dict[int, str]:
    """Display names of agents (full name, else username)."""
    users = get_user_model().objects.filter(pk__in=ids)
    return {u.pk: (u.get_full_name() or u.get_username()) for u in users}
