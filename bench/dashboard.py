"""Benchmark: the supervisors' dashboard over a year of a city's history on PostgreSQL.

Creates a scratch database (dropped at the end unless ``--keep``), migrates it, seeds the demo
city (``seed_demo``: 10 districts, 73 grids, about 700 crews) and writes a year of history in
SQL (generate_series): ``--orders-per-day`` closed repair orders with their lifecycle
timestamps, 1.5 customer reports and 0.6 hotline calls per order. Then it times, in the same
run:

* a plain ``SELECT count(*)`` over the year's repair orders (the rows the figures come from);
* the same figures computed straight from those rows (one aggregate query, what a dashboard
  without stored figures would run on every page view);
* the nightly backfill of the year's stored daily figures (``dashboard_compute_days``);
* the dashboard's main query (``dashboard_summary``: every figure of the year and the year
  before) for the city, a district and a grid, and the drill-down by district, beside a plain
  count over the stored daily rows it reads;
* the reliability part: a year of stored daily reliability totals (city, districts, grids;
  three splits) and open frequent-outage alerts for 2 % of the customers, written in SQL;
  then the dashboard's reliability table (SAIFI, SAIDI, CAIDI, MAIFI, ASAI of the area, the
  year before and each district) and frequent-outage table, beside a plain count over the
  same daily rows and alerts.

Target: the main query well under a second, and close to the plain count or below it.

    .venv/bin/python bench/dashboard.py                      # 300 orders a day (~110,000)
    .venv/bin/python bench/dashboard.py --orders-per-day 3000

The server is the one of DATABASE_URL (default postgres://postgres@127.0.0.1:5432); only the
database name is replaced by ``--database``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = _server_url(database)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.base"
    import django

    django.setup()


def _timed(label: str, fn: Callable[[], Any], results: dict[str, float]) -> Any:
    t0 = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - t0
    print(f"  {label:<52} {results[label]:9.3f} s")
    return value


def _insert(
    model: Any,
    count_sql: str,
    varying: dict[str, str],
    template: Any,
    cur: Any,
    *,
    where: str = "",
    varying_params: list[Any] | None = None,
) -> None:
    """INSERT ... SELECT over ``count_sql`` rows (those of ``where``): ``varying`` columns are
    SQL expressions (of the series row ``s``; their ``%s`` take ``varying_params`` in order),
    every other column the template instance's value."""
    from django.db import connection

    columns, exprs, params = [], [], []
    extra = list(varying_params or [])
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        if f.column in varying:
            exprs.append(varying[f.column])
            for _ in range(varying[f.column].count("%s")):
                params.append(extra.pop(0))
        else:
            exprs.append("%s")
            params.append(f.get_db_prep_save(getattr(template, f.attname), connection))
    table = connection.ops.quote_name(model._meta.db_table)
    condition = f" WHERE {where}" if where else ""
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(exprs)} FROM ({count_sql}) s{condition}",  # noqa: S608, E501
        params,
    )


def _generate(orders_per_day: int) -> dict[str, int]:
    from django.db import connection
    from django.utils import timezone

    from grids.models import Crew
    from outages.models import CallLog, TroubleReport
    from workorders.models import WorkOrder

    now = timezone.now()
    crews = list(Crew.objects.order_by("pk").values_list("pk", "station__grid_id"))
    total = orders_per_day * 365
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(0.26)")
        cur.execute("CREATE TEMP TABLE bench_crew (n int, crew_id int, grid_id int)")
        cur.executemany(
            "INSERT INTO bench_crew VALUES (%s, %s, %s)",
            [(n, pk, grid) for n, (pk, grid) in enumerate(crews)],
        )
        cur.execute(
            """
            CREATE TEMP TABLE bench_order AS
            SELECT g AS n, c.crew_id, c.grid_id, gr.district_id,
                   %s::timestamptz - random() * interval '365 days' AS created_at,
                   interval '1 minute' * (10 + random() * 80) AS arrive,
                   interval '1 minute' * (40 + random() * 200) AS restore,
                   random() < 0.3 AS pooled
            FROM generate_series(1, %s) g
            JOIN bench_crew c ON c.n = (g * 7919) %% %s
            JOIN grids_grid gr ON gr.id = c.grid_id
            """,
            [now, total, len(crews)],
        )
        template = WorkOrder(kind="premise_repair", status="closed", title="基准工单")
        _insert(
            WorkOrder,
            "SELECT * FROM bench_order",
            {
                "created_at": "s.created_at",
                "updated_at": "s.created_at",
                "grid_id": "s.grid_id",
                "district_id": "s.district_id",
                "crew_id": "s.crew_id",
                "published_at": "CASE WHEN s.pooled THEN s.created_at END",
                "claimed_at": "CASE WHEN s.pooled THEN s.created_at + interval '4 minutes' END",
                "dispatched_at": "s.created_at + interval '5 minutes'",
                "accepted_at": "s.created_at + interval '7 minutes'",
                "arrived_at": "s.created_at + s.arrive",
                "restored_at": "s.created_at + s.arrive + s.restore",
                "completed_at": "s.created_at + s.arrive + s.restore + interval '10 minutes'",
                "closed_at": "s.created_at + s.arrive + s.restore + interval '1 hour'",
                "arrive_due_at": "s.created_at + interval '45 minutes'",
                "restore_due_at": "s.created_at + interval '180 minutes'",
            },
            template,
            cur,
        )
        cur.execute("SELECT min(id) FROM grids_servicepoint")
        sp0 = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM grids_servicepoint")
        sps = cur.fetchone()[0]
        report = TroubleReport(channel="hotline", contact_phone="13800000000", symptom="no_power")
        _insert(
            TroubleReport,
            "SELECT o.*, r AS k FROM bench_order o, generate_series(1, 2) r "
            "WHERE r = 1 OR o.n %% 2 = 0",
            {
                "reference": "'B' || s.n || '-' || s.k",
                "received_at": "s.created_at - interval '3 minutes'",
                "created_at": "s.created_at",
                "updated_at": "s.created_at",
                "channel": "(ARRAY['hotline','hotline','web','app','wechat'])[1 + s.n %% 5]",
                "status": "'closed'",
                "service_point_id": f"{sp0} + (s.n * 31 + s.k) %% {sps}",
            },
            report,
            cur,
        )
        _insert(
            CallLog,
            "SELECT * FROM bench_order WHERE n %% 5 < 3",
            {
                "at": "s.created_at - interval '2 minutes'",
                "created_at": "s.created_at",
                "updated_at": "s.created_at",
                "caller_phone": "'139' || (s.n %% 100000)",
                "handling_seconds": "(60 + random() * 240)::int",
                "service_point_id": f"{sp0} + (s.n * 31) %% {sps}",
            },
            CallLog(kind="enquiry"),
            cur,
        )
        cur.execute("ANALYZE")
        counts = {}
        for name, model in (("orders", WorkOrder), ("reports", TroubleReport), ("calls", CallLog)):
            cur.execute(f"SELECT count(*) FROM {model._meta.db_table}")  # noqa: S608
            counts[name] = cur.fetchone()[0]
    return counts


def _generate_reliability(first: Any, last: Any) -> dict[str, int]:
    """A year of daily reliability totals per area and split, and open frequent-outage
    alerts for every 50th customer (half warning, half frequent)."""
    from django.db import connection
    from django.utils import timezone

    from reliability.models import DailyReliability, FrequentOutageAlert

    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            """
            CREATE TEMP TABLE bench_area AS
            SELECT 'city'::text AS scope, 0::bigint AS id, count(*)::int AS served
            FROM grids_servicepoint
            UNION ALL SELECT 'district', district_id, count(*) FROM grids_servicepoint
              WHERE district_id IS NOT NULL GROUP BY district_id
            UNION ALL SELECT 'grid', grid_id, count(*) FROM grids_servicepoint
              WHERE grid_id IS NOT NULL GROUP BY grid_id
            """
        )
        cur.execute(
            """
            INSERT INTO reliability_dailyreliability (day, scope, scope_id, split,
              customers_served, customer_interruptions, customer_minutes,
              momentary_interruptions, major_event_day, threshold_minutes, computed_at)
            SELECT d::date, a.scope, a.id, sp.split, a.served,
                   (random() * a.served * 0.004)::int, random() * a.served * 0.5,
                   (random() * a.served * 0.002)::int, false, 5, %s
            FROM generate_series(%s::date, %s::date, interval '1 day') d
            CROSS JOIN bench_area a
            CROSS JOIN (VALUES ('all'), ('planned'), ('fault')) sp(split)
            """,
            [now, first, last],
        )
        template = FrequentOutageAlert(
            level="warning",
            status="open",
            period_start=first,
            as_of=last,
            first_raised_at=now,
            last_changed_at=now,
        )
        _insert(
            FrequentOutageAlert,
            "SELECT id, row_number() OVER (ORDER BY id) AS k FROM grids_servicepoint",
            {
                "service_point_id": "s.id",
                "level": "CASE WHEN s.k %% 100 = 0 THEN 'frequent' ELSE 'warning' END",
                "first_raised_at": "%s::timestamptz - interval '1 day' * (s.k %% 365)",
            },
            template,
            cur,
            where="s.k %% 50 = 0",
            varying_params=[now],
        )
        cur.execute("ANALYZE")
    return {
        "daily reliability rows": DailyReliability.objects.count(),
        "open alerts": FrequentOutageAlert.objects.count(),
    }


RAW_FIGURES = """
SELECT count(*),
       avg(extract(epoch FROM arrived_at - created_at)),
       avg(extract(epoch FROM restored_at - created_at)),
       avg((arrived_at <= arrive_due_at)::int),
       avg((restored_at <= restore_due_at)::int)
FROM workorders_workorder
WHERE created_at >= %s AND created_at < %s AND kind IN ('outage_repair', 'premise_repair', 'danger')
"""


def _run(args: argparse.Namespace, results: dict[str, float]) -> None:
    from datetime import datetime, timedelta
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from dashboard import selectors, services
    from dashboard.models import DailyFigure
    from dashboard.periods import Kind, Period
    from dashboard.selectors import Scope
    from grids.models import Grid

    _timed("seed_demo (the city)", lambda: call_command(
        "seed_demo", "--service-points", str(args.service_points), "--feeders-per-grid", "1",
        "--no-progress", verbosity=0), results)  # fmt: skip
    counts = _timed("a year of history in SQL", lambda: _generate(args.orders_per_day), results)
    print(f"  history: {counts}")
    today = timezone.localdate()
    first, last = today - timedelta(days=365), today - timedelta(days=1)
    tz = ZoneInfo(settings.TIME_ZONE)
    start = datetime.combine(first, dtime.min, tz)
    end = datetime.combine(today, dtime.min, tz)
    rows = _timed(
        "backfill: store the year's daily figures",
        lambda: services.dashboard_compute_days(first=first, last=last),
        results,
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE dashboard_dailyfigure")
    print(f"  stored daily rows: {rows} ({DailyFigure.objects.count()})")
    year = Period(Kind.YEAR, first, last)
    grid = Grid.objects.order_by("code").first()
    assert grid is not None

    def plain_count() -> int:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM workorders_workorder"
                " WHERE created_at >= %s AND created_at < %s",
                [start, end],
            )
            return int(cur.fetchone()[0])

    def raw_figures() -> tuple[Any, ...]:
        with connection.cursor() as cur:
            cur.execute(RAW_FIGURES, [start, end])
            return tuple(cur.fetchone())

    for n in range(args.repeat):
        suffix = "" if n == 0 else f" (run {n + 1})"
        _timed("plain count over the year's orders" + suffix, plain_count, results)
        _timed("the same figures from the raw orders" + suffix, raw_figures, results)
        summary = _timed(
            "main query: dashboard_summary, city, year" + suffix,
            lambda: selectors.dashboard_summary(period=year, scope=Scope()),
            results,
        )
    _timed(
        "dashboard_summary, one district",
        lambda: selectors.dashboard_summary(period=year, scope=Scope(grid.district_id)),
        results,
    )
    _timed(
        "dashboard_summary, one grid",
        lambda: selectors.dashboard_summary(period=year, scope=Scope(grid.district_id, grid.pk)),
        results,
    )
    _timed(
        "drill-down by district",
        lambda: selectors.dashboard_by_scope(period=year, scope=Scope(), keys=("orders",)),
        results,
    )
    print(
        f"  check: orders {summary['orders'].current}, arrival {summary['arrive_minutes'].current}"
        f" min, arrival SLA {summary['arrive_sla'].current} %"
    )

    def plain_count_daily() -> int:
        return DailyFigure.objects.filter(
            level=DailyFigure.Level.CITY, day__gte=first, day__lte=last
        ).count()

    _timed("plain count over the city's stored daily rows (year)", plain_count_daily, results)

    # The reliability part of the page.
    from dashboard import tables
    from reliability.models import DailyReliability, FrequentOutageAlert

    got = _timed(
        "reliability: a year of daily totals and alerts in SQL",
        lambda: _generate_reliability(first, last),
        results,
    )
    print(f"  reliability history: {got}")
    ctx = tables.build_context(period=year, scope=Scope())

    def plain_count_reliability() -> int:
        return (
            DailyReliability.objects.filter(
                split="all", scope__in=("city", "district"), day__gte=first, day__lte=last
            ).count()
            + FrequentOutageAlert.objects.filter(status="open").count()
        )

    for n in range(args.repeat):
        suffix = "" if n == 0 else f" (run {n + 1})"
        _timed(
            "plain count over the same daily rows and alerts" + suffix,
            plain_count_reliability,
            results,
        )
        table = _timed(
            "reliability table: city, year (+ year before, districts)" + suffix,
            lambda: tables.reliability_table(ctx),
            results,
        )
        frequent = _timed(
            "frequent-outage table: city, year" + suffix,
            lambda: tables.frequent_table(ctx),
            results,
        )
    district_ctx = tables.build_context(period=year, scope=Scope(grid.district_id))
    _timed(
        "reliability table: one district, year (+ its grids)",
        lambda: tables.reliability_table(district_ctx),
        results,
    )
    print(f"  check: city {table.rows[0]}; alerts {frequent.rows[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders-per-day", type=int, default=300)
    parser.add_argument("--service-points", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of the timed reads")
    parser.add_argument("--database", default="bench_dashboard")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    _admin("DROP DATABASE IF EXISTS {}", args.database)
    _admin("CREATE DATABASE {}", args.database)
    results: dict[str, float] = {}
    try:
        _setup_django(args.database)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=ROOT,
            check=True,
            env=os.environ,
        )
        _run(args, results)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", args.database)


if __name__ == "__main__":
    main()
