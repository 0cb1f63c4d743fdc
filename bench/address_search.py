"""Benchmark: service point search on a PostgreSQL demo city of a million customers.

Creates (or reuses) a scratch database, migrates it, seeds the demo city up to
``--service-points`` customers with ``seed_demo``'s service, then runs a few thousand searches
of mixed kinds (fragments, full-width, whole addresses, with a prefix, with a typo, accounts,
phones) and prints p50 / p95 / p99 latency per kind and overall, the hit rate where the right
answer is known, and how long the seed took. Target: p95 < 50 ms at 1,000,000.

    .venv/bin/python bench/address_search.py                    # 1,000,000 (takes minutes)
    .venv/bin/python bench/address_search.py --service-points 50000 --searches 1000
    .venv/bin/python bench/address_search.py --explain          # also print query plans

The server is the one of DATABASE_URL (default postgres://postgres@127.0.0.1:5432); only the
database name is replaced by ``--database``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def _server_url(database: str) -> str:
    url = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    return urlunparse(url._replace(path=f"/{database}"))


def _ensure_database(name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    url = urlparse(_server_url("postgres"))
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    conn.close()


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = _server_url(database)
    os.environ.pop("REDIS_URL", None)  # search needs no cache; keep the bench self-contained
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.base"
    import django

    django.setup()


def _seed(total: int, feeders_per_grid: int) -> float | None:
    from django.core.management import call_command
    from django.db import connection
    from tqdm import tqdm

    from grids.models import ServicePoint
    from grids.services.demo import demo_city_seed

    call_command("migrate", verbosity=0)
    have = ServicePoint.objects.count()
    if have >= total:
        print(f"reusing {have} service points already seeded")
        return None
    started = time.monotonic()
    with tqdm(total=total - have, unit="sp", desc="seeding", file=sys.stderr) as bar:
        demo_city_seed(service_points=total, feeders_per_grid=feeders_per_grid, progress=bar.update)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE grids_servicepoint")
    return seconds


def _fullwidth(text: str) -> str:
    return "".join(FULL_WIDTH.get(c, c) for c in text)


def _queries(n: int, rng: random.Random) -> list[tuple[str, str, int | None]]:
    """(kind, query, expected service point id or None) built from real rows."""
    from django.db.models import Max, Min

    from grids.models import ServicePoint

    bounds = ServicePoint.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    ids = sorted({rng.randint(bounds["lo"], bounds["hi"]) for _ in range(n)})
    rows = list(
        ServicePoint.objects.filter(pk__in=ids)
        .select_related("district")
        .values_list("pk", "account_no", "phone", "address_norm", "district__name")
    )
    out: list[tuple[str, str, int | None]] = []
    kinds = [
        "fragment 2-3",
        "fragment 4-8",
        "full-width",
        "prefix-less",
        "with prefix",
        "typo",
        "account",
        "phone",
    ]
    for i, (pk, account, phone, norm, district) in enumerate(rows):
        kind = kinds[i % len(kinds)]
        size = rng.randint(2, 3) if kind == "fragment 2-3" else rng.randint(4, 8)
        start = rng.randrange(max(len(norm) - size, 1))
        fragment = norm[start : start + size]
        if kind in ("fragment 2-3", "fragment 4-8"):
            out.append((kind, fragment, None))
        elif kind == "full-width":
            out.append((kind, _fullwidth(norm[start : start + rng.randint(5, 10)]), None))
        elif kind == "prefix-less":
            out.append((kind, norm, pk))  # the whole address, without 深圳市 and district
        elif kind == "typo":
            # One character of a 6-10 character fragment mistyped: only similarity finds it.
            piece = norm[start : start + rng.randint(6, 10)]
            at = rng.randrange(len(piece))
            wrong = "7" if piece[at] != "7" else "8"
            out.append((kind, piece[:at] + wrong + piece[at + 1 :], None))
        elif kind == "with prefix":
            out.append((kind, f"深圳 {district} {fragment}", None))
        elif kind == "account":
            out.append((kind, account, pk))
        else:
            out.append((kind, phone, pk))
    rng.shuffle(out)
    return out


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def _explain() -> None:
    from django.db import connection

    from grids.models import ServicePoint

    norm = ServicePoint.objects.order_by("pk").values_list("address_norm", flat=True)[1000]
    road = norm[norm.index("街道") + 2 :][:4]
    cases = {
        "contains (trigram GIN)": ("address_norm LIKE %s", [f"%{road}%"]),
        "contains, 2 chars, ranked": (
            "address_norm LIKE %s ORDER BY length(address_norm), account_no LIMIT 10",
            [f"%{norm[-4:-2]}%"],
        ),
        "prefix": (
            "address_norm LIKE %s ORDER BY length(address_norm), account_no LIMIT 10",
            [norm[:5] + "%"],
        ),  # fmt: skip
        "word similarity": ("address_norm %%> %s", [road + "1号"]),
    }
    with connection.cursor() as cursor:
        for label, (where, params) in cases.items():
            cursor.execute(
                f"EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM grids_servicepoint WHERE {where}",  # noqa: S608
                params,
            )
            print(f"\n-- {label}: {params}")
            for (line,) in cursor.fetchall():
                print("   ", line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--service-points", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=3000)
    parser.add_argument("--database", default="dc_bench_search")
    parser.add_argument("--feeders-per-grid", type=int, default=4)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    _ensure_database(args.database)
    _setup_django(args.database)
    seed_seconds = _seed(args.service_points, args.feeders_per_grid)

    from grids.models import ServicePoint
    from grids.selectors import service_point_search

    total = ServicePoint.objects.count()
    rng = random.Random(args.seed)
    queries = _queries(args.searches, rng)
    for _, q, _ in queries[:100]:  # warm the caches and the connection
        service_point_search(q=q)
    by_kind: dict[str, list[float]] = defaultdict(list)
    found: dict[str, list[bool]] = defaultdict(list)
    empty = 0
    for kind, q, expected in queries:
        t0 = time.perf_counter()
        hits = service_point_search(q=q)
        ms = (time.perf_counter() - t0) * 1000
        by_kind[kind].append(ms)
        empty += not hits
        if expected is not None:
            found[kind].append(any(h.service_point.pk == expected for h in hits))
    everything = [ms for values in by_kind.values() for ms in values]

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nservice points: {total:,}   searches: {len(everything):,}   empty answers: {empty}")
    print(f"load average at the end: {load} on {os.cpu_count()} CPUs (latency grows with it)")
    if seed_seconds is not None:
        print(f"seed time: {seed_seconds:.0f} s ({total / seed_seconds:,.0f} service points/s)")
    print(f"{'kind':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}  found")
    for kind in sorted(by_kind):
        v = by_kind[kind]
        rate = f"{sum(found[kind])}/{len(found[kind])}" if found[kind] else ""
        print(
            f"{kind:<14} {len(v):>5} {statistics.median(v):>8.1f} {_pct(v, 95):>8.1f} "
            f"{_pct(v, 99):>8.1f} {max(v):>8.1f}  {rate}"
        )
    print(
        f"{'all':<14} {len(everything):>5} {statistics.median(everything):>8.1f} "
        f"{_pct(everything, 95):>8.1f} {_pct(everything, 99):>8.1f} {max(everything):>8.1f}"
    )
    p95 = _pct(everything, 95)
    print(f"target p95 < 50 ms: {'met' if p95 < 50 else 'NOT met'} ({p95:.1f} ms)")
    if args.explain:
        _explain()
    return 0


if __name__ == "__main__":
    sys.exit(main())
