"""Writes of the dashboard: the stored daily figures (computed on the ``analytics`` queue),
automatic points from recorded calls, and manual awards.

Computing a day replaces that day's rows, so running it twice stores the same figures; late
events (a restoration the next day) land when the day is computed again (the nightly task
recomputes the last days).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from complaints.selectors_dashboard import dashboard_complaint_rows
from dashboard import aggregate, points
from dashboard.aggregate import CallRecord, Cells
from dashboard.models import DailyFigure, PointAward, PointItem
from dispatch_center.core.exceptions import DomainError
from outages.selectors.dashboard import (
    dashboard_call_rows,
    dashboard_outage_rows,
    dashboard_report_rows,
    outage_type_rows,
)
from workorders.selectors.dashboard import dashboard_order_rows, order_priority_station


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=_tz())


def _call(row: Mapping[str, Any]) -> CallRecord:
    return CallRecord(
        id=row["id"],
        at=row["at"],
        agent_id=row["agent_id"],
        caller_phone=row["caller_phone"],
        outage_id=row["outage_id"],
        handling_seconds=row["handling_seconds"],
        district_id=row["district_id"],
        grid_id=row["grid_id"],
    )


def _calls(start: datetime, end: datetime) -> tuple[list[CallRecord], list[CallRecord]]:
    """The calls of [start, end) and those of the next 24 hours (to see repeats)."""
    calls = [_call(r) for r in dashboard_call_rows(start=start, end=end)]
    later = [_call(r) for r in dashboard_call_rows(start=end, end=end + aggregate.REPEAT_WINDOW)]
    return calls, later


def dashboard_cells(*, first: date, last: date, now: datetime | None = None) -> Cells:
    """Every figure's cells for the days ``first`` to ``last`` (read only)."""
    tz, now = _tz(), now or timezone.now()
    start, end = _day_start(first), _day_start(last + timedelta(days=1))
    cells = Cells()
    order_rows = list(dashboard_order_rows(start=start, end=end))
    extra = order_priority_station(r["id"] for r in order_rows)
    aggregate.add_orders(
        cells,
        (
            aggregate.OrderRecord(
                **{k: v for k, v in r.items() if not k.startswith("n_")},
                decisions=r["n_decisions"],
                preemptions=r["n_preemptions"],
                priority=extra.get(r["id"], (None, None))[0],
                station_id=extra.get(r["id"], (None, None))[1],
            )
            for r in order_rows
        ),
        tz,
        now,
    )
    aggregate.add_reports(
        cells,
        (aggregate.ReportRecord(**r) for r in dashboard_report_rows(start=start, end=end)),
        tz,
    )
    calls, later = _calls(start, end)
    aggregate.add_calls(cells, calls, tz, later)
    aggregate.add_outages(
        cells,
        (aggregate.OutageRecord(**r) for r in dashboard_outage_rows(start=start, end=end)),
        tz,
    )
    aggregate.add_outage_types(
        cells,
        (aggregate.OutageTypeRecord(**r) for r in outage_type_rows(start=start, end=end)),
        tz,
    )
    aggregate.add_complaints(
        cells,
        (
            aggregate.ComplaintRecord(
                r["received_at"], r["district_id"], r["grid_id"], r["category_code"]
            )
            for r in dashboard_complaint_rows(start=start, end=end)
        ),
        tz,
    )
    return cells


COLUMNS = (
    "day", "figure", "level", "district_id", "grid_id", "crew_id", "dimension", "total", "count"
)  # fmt: skip
BATCH = 500  # rows per INSERT (SQLite's limit on parameters allows 32,766)


@transaction.atomic
def dashboard_compute_days(*, first: date, last: date, now: datetime | None = None) -> int:
    """Replace the stored figures of the days ``first`` to ``last``; return the row count.

    The rows go in as multi-row INSERTs rather than ``bulk_create``: a year of a city is a few
    hundred thousand rows, and the ORM's per-field preparation would dominate.
    """
    cells = dashboard_cells(first=first, last=last, now=now)
    DailyFigure.objects.filter(day__gte=first, day__lte=last).delete()
    rows = [
        (k.day, k.figure, k.level, k.district_id, k.grid_id, k.crew_id, k.dimension, total, count)
        for k, (total, count) in cells.as_dict().items()
        if first <= k.day <= last
    ]
    table = connection.ops.quote_name(DailyFigure._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    with connection.cursor() as cursor:
        # The driver's cursor under Django's wrapper: with DEBUG on (the demo) the wrapper
        # would format every parameter of every batch into its query log.
        raw = cursor.cursor
        for n in range(0, len(rows), BATCH):
            batch = rows[n : n + BATCH]
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(batch))}"  # noqa: S608
            raw.execute(sql, [v for row in batch for v in row])
    return len(rows)


@transaction.atomic
def points_award_from_calls(*, first: date, last: date) -> int:
    """Award the automatic points items for the calls of ``first`` to ``last``; an award
    already made (same item and call) is not made again. Returns the number of new awards."""
    rules = [
        points.ItemRule(item.pk, item.rule, item.points, item.target_seconds)
        for item in PointItem.objects.filter(is_active=True).exclude(rule="")
    ]
    if not rules:
        return 0
    calls, later = _calls(_day_start(first), _day_start(last + timedelta(days=1)))
    at_by_call = {c.id: c.at for c in calls}
    awards = points.awards_for_calls(calls, rules, later)
    created = PointAward.objects.bulk_create(
        [
            PointAward(
                agent_id=a.agent_id,
                item_id=a.item_id,
                points=a.points,
                awarded_at=at_by_call[a.call_id],
                source_key=a.source_key,
            )
            for a in awards
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    return len(created)


@transaction.atomic
def points_award_manual(
    *,
    agent: User,
    item: PointItem,
    reason: str,
    awarded_by: User,
    points_given: int | None = None,
) -> PointAward:
    """A manual award of ``item`` (its points unless ``points_given``) with a reason."""
    if not reason.strip():
        raise DomainError("手动加减分必须写明原因。")
    if not item.is_active:
        raise DomainError("该积分项目已停用。")
    award = PointAward(
        agent=agent,
        item=item,
        points=item.points if points_given is None else points_given,
        awarded_at=timezone.now(),
        reason=reason.strip(),
        awarded_by=awarded_by,
    )
    award.full_clean()
    award.save()
    return award


def dashboard_nightly(*, today: date | None = None, days_back: int = 2) -> int:
    """Recompute the last ``days_back`` days (yesterday included) and award their points."""
    today = today or timezone.localdate()
    first, last = today - timedelta(days=days_back), today - timedelta(days=1)
    rows = dashboard_compute_days(first=first, last=last)
    points_award_from_calls(first=first, last=last)
    return rows
