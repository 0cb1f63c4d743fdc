"""Benchmark: the frequent-outage full scan and the year's reliability indices on PostgreSQL.

Creates a scratch database (dropped at the end unless ``--keep``), migrates it, and generates
a city of ``--service-points`` customers (50 per transformer, 100 transformers per feeder)
and a year of outages on whole transformers (planned ~30 %), about ``--per-customer``
interruptions per customer (a few million rows at 1,000,000 customers). Then it times, in
the same run:

* a plain ``SELECT service_point_id, count(*) ... GROUP BY service_point_id`` over the year;
* the full scan (``frequent_outage_scan_now``): one query returns the histories of the
  customers that pass the raw-count prefilter, each distinct history once with the
  customers sharing it; the counting engine assesses each; one query compares the results
  with the open alerts (content digests) and only the differences are written. Run twice
  (the second finds nothing to change: the steady state of a nightly scan);
* the daily figures for the year (``reliability_days_compute``);
* reading the year's indices for the whole city and per feeder (stored daily figures).

Targets: the full scan at most 3 x the plain count; reading the year's indices < 100 ms.

    .venv/bin/python bench/frequent_outages.py                      # 100,000 customers
    .venv/bin/python bench/frequent_outages.py --service-points 1000000

The server is the one of DATABASE_URL (default postgres://postgres@127.0.0.1:5432); only the
database name is replaced by ``--database``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402

PER_TRANSFORMER = 50
PER_FEEDER = 100
READ_CITY_AGAIN = "read the year's indices: city (again)"


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = _server_url(database)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.base"
    import django

    django.setup()


def _timed(label: str, fn, results: dict) -> object:
    t0 = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - t0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  {label:<44} {results[label]:9.3f} s   (load average {load})")
    return value


def _generate(service_points: int, per_customer: float, seed: int) -> dict:
    """The city and its year of outages, in SQL (generate_series)."""
    from django.db import connection
    from django.utils import timezone

    from grids.models import District, Feeder, Grid, Substation
    from outages.models import OutageType

    transformers = service_points // PER_TRANSFORMER
    feeders = max(1, transformers // PER_FEEDER)
    district = District.objects.create(code="BENCH", name="基准区")
    grid = Grid.objects.create(code="G-BENCH", name="基准网格", district=district)
    sub = Substation.objects.create(code="SS-BENCH", name="基准站", district=district)
    Feeder.objects.bulk_create(
        [Feeder(code=f"F{i}", name=f"F{i}", substation=sub) for i in range(feeders)]
    )
    fault = OutageType.objects.get(code="fault_transformer").pk
    planned = OutageType.objects.get(code="planned_maintenance").pk
    year_end = timezone.now() - timedelta(hours=1)
    outages = int(service_points * per_customer / PER_TRANSFORMER)
    with connection.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [(seed % 1000) / 1000.0])
        cur.execute(
            """
            INSERT INTO grids_node (code, is_source)
            SELECT 'N' || g, false FROM generate_series(1, %s) g
            """,
            [2 * transformers],
        )
        cur.execute("SELECT min(id) FROM grids_node")
        node0 = cur.fetchone()[0]
        cur.execute("SELECT min(id) FROM grids_feeder")
        feeder0 = cur.fetchone()[0]
        now = timezone.now()
        cur.execute(
            """
            INSERT INTO grids_device (code, name, kind, feeder_id, node_a_id, node_b_id,
                normally_open, is_open, energized, created_at, updated_at)
            SELECT 'T' || g, 'T' || g, 'transformer', %s + g / %s, %s + 2 * g, %s + 2 * g + 1,
                false, false, true, %s, %s
            FROM generate_series(0, %s - 1) g
            """,
            [feeder0, PER_FEEDER, node0, node0, now, now, transformers],
        )
        cur.execute("SELECT min(id) FROM grids_device")
        device0 = cur.fetchone()[0]
        cur.execute(
            """
            INSERT INTO grids_servicepoint (account_no, customer_name, phone, address,
                address_norm, lat, lng, transformer_id, grid_id, district_id, area_class,
                is_important, created_at, updated_at)
            SELECT lpad(g::text, 12, '0'), '用户' || g, '', '基准路' || g || '号',
                '基准路' || g || '号', 22.5, 114.0, %s + g / %s, %s, %s, 'urban', false, %s, %s
            FROM generate_series(0, %s - 1) g
            """,
            [device0, PER_TRANSFORMER, grid.pk, district.pk, now, now, service_points],
        )
        # One outage per (transformer, random time in the year): 10 % momentary blips,
        # otherwise 10 min to 6 h; 30 % planned.
        cur.execute(
            """
            CREATE TEMP TABLE bench_out AS
            SELECT g AS n, %s + floor(random() * %s)::int AS device_id,
                   %s::timestamptz - random() * interval '364 days' AS started_at,
                   CASE WHEN random() < 0.1 THEN interval '3 minutes'
                        ELSE interval '10 minutes' + random() * interval '350 minutes' END AS dur,
                   random() < 0.3 AS planned
            FROM generate_series(1, %s) g
            """,
            [device0, transformers, year_end, outages],
        )
        cur.execute(
            """
            INSERT INTO outages_outage (type_id, status, source, device_id, depth, started_at,
                restored_at, closed_at, customers_affected, customers_restored, description,
                notice_override_reason, version, created_at, updated_at)
            SELECT CASE WHEN planned THEN %s ELSE %s END, 'closed', 'dispatcher', device_id, 0,
                started_at, started_at + dur, started_at + dur, %s, %s, 'bench-' || n, '', 1,
                started_at, started_at + dur
            FROM bench_out ORDER BY n
            """,
            [planned, fault, PER_TRANSFORMER, PER_TRANSFORMER],
        )
        cur.execute(
            """
            INSERT INTO outages_interruption (outage_id, root_id, service_point_id, started_at,
                ended_at)
            SELECT o.id, o.id, sp.id, o.started_at, o.restored_at
            FROM outages_outage o JOIN grids_servicepoint sp ON sp.transformer_id = o.device_id
            """
        )
        cur.execute("ANALYZE")
        cur.execute("SELECT count(*) FROM outages_interruption")
        rows = cur.fetchone()[0]
    return {"transformers": transformers, "feeders": feeders, "outages": outages, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service-points", type=int, default=100_000)
    parser.add_argument("--per-customer", type=float, default=2.5, help="interruptions a year")
    parser.add_argument("--database", default="bench_frequent_outages")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--skip-daily", action="store_true", help="skip the daily figures")
    parser.add_argument("--seed", type=int, default=7)
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
            env=os.environ.copy(),
        )
        from django.db import connection
        from django.utils import timezone

        from reliability import selectors, services
        from reliability.models import FrequentOutageAlert

        print(f"Generating {args.service_points:,} service points and a year of outages…")
        shape = _timed(
            "generate (not part of the targets)",
            lambda: _generate(args.service_points, args.per_customer, args.seed),
            results,
        )
        print(
            f"  {shape['transformers']:,} transformers, {shape['feeders']:,} feeders, "
            f"{shape['outages']:,} outages, {shape['rows']:,} interruptions"
        )
        today = timezone.localdate()
        since = selectors.local_midnight(today - timedelta(days=364))

        def plain_count():
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT service_point_id, count(*) FROM outages_interruption "
                    "WHERE started_at >= %s GROUP BY service_point_id",
                    [since],
                )
                return len(cur.fetchall())

        policy = selectors.policy_get()
        policy.period = "rolling_365"
        policy.save()
        print("Timings:")
        _timed("plain GROUP BY customer count", plain_count, results)
        _timed("plain GROUP BY customer count (again)", plain_count, results)
        first = _timed(
            "full scan, first run (raises alerts)", services.frequent_outage_scan_now, results
        )
        second = _timed(
            "full scan, second run (steady state)", services.frequent_outage_scan_now, results
        )
        print(f"  first: {first}")
        print(f"  second: {second}")
        open_alerts = FrequentOutageAlert.objects.filter(status="open")
        print(
            f"  open alerts: frequent {open_alerts.filter(level='frequent').count():,}, "
            f"warning {open_alerts.filter(level='warning').count():,}"
        )
        if not args.skip_daily:
            days = [today - timedelta(days=n) for n in range(365, -1, -1)]
            _timed(
                "daily figures for the year (366 days)",
                lambda: services.reliability_days_compute(days=days),
                results,
            )

            def read_city():
                return selectors.reliability_indices(date_from=days[0], date_to=days[-1])

            def read_feeders():
                return selectors.reliability_indices(
                    date_from=days[0], date_to=days[-1], scope="feeder"
                )

            city = _timed("read the year's indices: city", read_city, results)
            _timed(READ_CITY_AGAIN, read_city, results)
            feeders = _timed("read the year's indices: every feeder", read_feeders, results)
            print(f"  city: {city[0] if city else None}")
            print(f"  feeders: {len(feeders)} rows")
        plain = min(
            results["plain GROUP BY customer count"],
            results["plain GROUP BY customer count (again)"],
        )
        first_x = results["full scan, first run (raises alerts)"] / plain
        steady_x = results["full scan, second run (steady state)"] / plain
        print("Figures:")
        print(f"  full scan / plain count: first {first_x:.1f} x, steady {steady_x:.1f} x (<= 3 x)")
        if not args.skip_daily:
            read = results[READ_CITY_AGAIN] * 1000
            print(f"  reading the year's city indices: {read:.1f} ms (target < 100 ms)")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", args.database)


if __name__ == "__main__":
    main()
