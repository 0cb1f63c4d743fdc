"""Benchmark: the public address look-up ``GET /api/v1/public/lookup`` under load.

One gunicorn (``--workers`` sync workers, production settings plus two bare views, public
throttle lifted) on a loopback port, against a scratch PostgreSQL database holding the demo
city at ``--customers`` service points (``seed_demo``) with a few outages under way, and Redis
as cache. The load generator is ``wrk`` (``--connections`` connections, one thread).

Measured in the same run, rounds alternating so every endpoint sees the same machine state:

- ``bare-read``: a plain Django view doing one indexed PostgreSQL read (by account number);
- ``bare-json``: a plain Django view answering constant JSON;
- ``lookup``: the look-up, uncached: ``--queries`` distinct address fragments as people type
  them (the end of the address cut off), and the cache version bumped before each round, so
  no answer comes from the per-query cache;
- ``lookup-cached``: the look-up on 50 repeated fragments, answered from the cache.

Printed per endpoint: requests a second (median of rounds), p50 / p95 / p99 latency, the
gunicorn workers' CPU per request (from /proc; neighbours on a shared machine do not distort
it). Targets: the uncached look-up at >= 0.5 of the bare one-read view's throughput (the
median of the rounds' ratios), p99 < 100 ms.

    .venv/bin/python bench/lookup_throughput.py
    .venv/bin/python bench/lookup_throughput.py --customers 50000 --database bench_lookup_x --keep
    .venv/bin/python bench/lookup_throughput.py --profile 300   # pyinstrument, in-process

``--keep`` keeps the scratch database, and a later run with the same ``--database`` reuses it
when it already holds the city. The PostgreSQL server is the one of ``DATABASE_URL``; Redis is
``REDIS_URL``, under its own key prefix.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402
from bench.intake_throughput import (  # noqa: E402
    _ensure_wrk,
    _free_port,
    _ms,
    _wait_ready,
    _worker_cpu_seconds,
    start_gunicorn,
)
from bench.intake_throughput import _env as intake_env  # noqa: E402

SETTINGS = "bench._lookup_settings"
LOOKUP_PATH = "/api/v1/public/lookup"
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
ENDPOINTS = ("bare-json", "bare-read", "lookup", "lookup-cached")


def _env(database: str, redis_url: str) -> dict[str, str]:
    return intake_env(database, redis_url, SETTINGS)


def _database_exists(name: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(_server_url(name)).close()
    except psycopg2.OperationalError:
        return False
    return True


def _seed(customers: int, outages: int, rng: random.Random) -> None:
    """The demo city, ``outages`` confirmed faults on transformers and switches, VACUUM."""
    from django.core.management import call_command
    from django.db import connection

    from grids.models import Device, ServicePoint
    from outages import services
    from outages.models import Outage, OutageType

    call_command("migrate", verbosity=0)
    if ServicePoint.objects.count() < customers:
        call_command("seed_demo", service_points=customers, no_progress=True, verbosity=0)
    if not Outage.objects.exists():
        fault = OutageType.objects.get(code="fault_mv_feeder")
        transformer = OutageType.objects.filter(code__contains="transformer").first() or fault
        switches = list(
            Device.objects.filter(kind="load_break_switch").values_list("pk", flat=True)
        )
        transformers = list(Device.objects.filter(kind="transformer").values_list("pk", flat=True))
        picks = [(pk, fault) for pk in rng.sample(switches, min(2, len(switches)))]
        picks += [(pk, transformer) for pk in rng.sample(transformers, max(outages - 2, 0))]
        for pk, kind in picks:
            services.outage_create(
                type=kind,
                device=Device.objects.get(pk=pk),
                source=Outage.Source.DISPATCHER,
                status=Outage.Status.CONFIRMED,
                actor=None,
            )
    # VACUUM too: a freshly bulk-loaded table has no visibility map yet.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _queries(n: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """``n`` distinct address fragments as people type them, and ``n`` account numbers."""
    from grids.models import ServicePoint

    total = ServicePoint.objects.count()
    ids = list(ServicePoint.objects.order_by("pk").values_list("pk", flat=True))
    rows = dict(
        ServicePoint.objects.filter(pk__in=rng.sample(ids, min(total, n * 2))).values_list(
            "address", "account_no"
        )
    )
    fragments: set[str] = set()
    for address in sorted(rows):
        text = address.removeprefix("深圳市")
        fragments.add(text[: max(4, len(text) - rng.randrange(0, 4))])
        if len(fragments) >= n:
            break
    out = sorted(fragments)
    rng.shuffle(out)
    accounts = list(rows.values())[:n]
    return out, accounts


def _lua(paths: list[str], scratch: Path, name: str) -> Path:
    entries = ",\n".join(f'"{p}"' for p in paths)
    script = scratch / f"{name}.lua"
    script.write_text(
        "local paths = {\n" + entries + "\n}\n"
        "local n = #paths\n"
        "local counter = 0\n"
        "init = function(args) counter = tonumber(args[1] or 0) end\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        '  return wrk.format("GET", paths[(counter % n) + 1])\n'
        "end\n"
    )
    return script


def _wrk(wrk: str, port: int, script: Path, seconds: int, conns: int, offset: int):
    cmd = [wrk, "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script)]
    cmd += [f"http://127.0.0.1:{port}/", "--", str(offset)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise SystemExit(f"wrk failed:\n{out}")
    latency = {
        p: _ms(v, unit) for p, v, unit in re.findall(r"\s(50|90|99)%\s+([\d.]+)(us|ms|s)\b", out)
    }
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return float(rate.group(1)), latency, int(bad.group(1)) if bad else 0, int(total.group(1))


def _profile(queries: list[str], count: int) -> None:
    """Run ``count`` uncached look-ups in this process under pyinstrument and print where the
    time goes (the same view, through Django's test client, Redis and PostgreSQL)."""
    from django.test import Client
    from pyinstrument import Profiler

    from outages.api.public import bump_public_version

    client = Client()
    for q in queries[:20]:  # warm-up: imports, connections
        client.get(LOOKUP_PATH, {"q": q})
    bump_public_version()
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for q in queries[20 : 20 + count]:
            client.get(LOOKUP_PATH, {"q": q})
    elapsed = (time.perf_counter() - started) * 1000 / count
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(f"{elapsed:.2f} ms per uncached look-up (wall, in-process, profiler on)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--outages", type=int, default=12, help="confirmed faults in the city")
    parser.add_argument("--queries", type=int, default=5000, help="distinct fragments")
    parser.add_argument("--seconds", type=int, default=6, help="per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", default=f"bench_lookup_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--profile", type=int, default=0, help="profile N look-ups, then stop")
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    rng = random.Random(20261206)

    if not _database_exists(args.database):
        _admin("CREATE DATABASE {}", args.database)
    proc = None
    results: dict[str, list] = {e: [] for e in ENDPOINTS}
    load = os.getloadavg()
    try:
        os.environ.update(_env(args.database, redis_url))
        import django

        django.setup()
        from django.db import connections

        from outages.api.public import bump_public_version

        started = time.time()
        print(f"seeding {args.customers} service points in {args.database} ...")
        _seed(args.customers, args.outages, rng)
        fragments, accounts = _queries(args.queries, rng)
        print(f"city ready in {time.time() - started:.0f} s; {len(fragments)} fragments")
        if args.profile:
            _profile(fragments, args.profile)
            return 0
        connections.close_all()
        scratch = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
        scripts = {
            "bare-json": _lua(["/bench/bare-json"], scratch, "json"),
            "bare-read": _lua([f"/bench/bare-read?q={a}" for a in accounts], scratch, "read"),
            "lookup": _lua([f"{LOOKUP_PATH}?q={quote(q)}" for q in fragments], scratch, "lookup"),
            "lookup-cached": _lua(
                [f"{LOOKUP_PATH}?q={quote(q)}" for q in fragments[:50]], scratch, "cached"
            ),
        }
        wrk = _ensure_wrk()
        if wrk is None:
            raise SystemExit("this benchmark needs wrk")
        port = _free_port()
        proc = start_gunicorn(port, args.workers, _env(args.database, redis_url))
        _wait_ready(port)
        offset = 0

        def run(endpoint: str, seconds: int):
            nonlocal offset
            if endpoint == "lookup":
                bump_public_version()  # nothing this round asks for is cached
            cpu_before = _worker_cpu_seconds(proc.pid)
            out = _wrk(wrk, port, scripts[endpoint], seconds, args.connections, offset)
            offset += out[3] + 1  # the next run starts where this one stopped
            cpu_ms = (_worker_cpu_seconds(proc.pid) - cpu_before) * 1000 / max(out[3], 1)
            return (*out, cpu_ms)

        for endpoint in ENDPOINTS:  # warm-up: every worker imports and connects
            run(endpoint, 2)
        for _ in range(args.rounds):
            for endpoint in ENDPOINTS:
                results[endpoint].append(run(endpoint, args.seconds))
        load = os.getloadavg()
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", args.database)

    print(
        f"\nlook-up throughput — {args.customers} customers, gunicorn {args.workers} sync "
        f"workers, wrk {args.connections} connections, {args.seconds} s x {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    rates = {}
    p99s = {}
    for endpoint in ENDPOINTS:
        runs = results[endpoint]
        rates[endpoint] = statistics.median(r[0] for r in runs)
        p50, p90, p99 = (
            statistics.median(r[1].get(k, 0) for r in runs) for k in ("50", "90", "99")
        )
        p99s[endpoint] = p99
        cpu = statistics.median(r[4] for r in runs)
        each = ", ".join(f"{r[0]:.0f}" for r in runs)
        print(
            f"  {endpoint:14s} {rates[endpoint]:7.0f} req/s (runs: {each})  p50 {p50:6.1f} ms  "
            f"p90 {p90:6.1f} ms  p99 {p99:6.1f} ms  app CPU {cpu:5.2f} ms/req  "
            f"non-2xx {sum(r[2] for r in runs)}"
        )
    pairs = [lk[0] / br[0] for br, lk in zip(results["bare-read"], results["lookup"], strict=True)]
    ratio = statistics.median(pairs)
    ok = ratio >= TARGET_RATIO and p99s["lookup"] < TARGET_P99_MS
    print(
        f"  ratio look-up / bare one-read: {ratio:.2f} (rounds: "
        f"{', '.join(f'{p:.2f}' for p in pairs)}); target >= {TARGET_RATIO}; "
        f"look-up p99 {p99s['lookup']:.1f} ms, target < {TARGET_P99_MS:.0f} ms: "
        f"{'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
