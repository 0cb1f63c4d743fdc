"""Benchmark: intake throughput of ``POST /api/v1/public/reports`` against a bare insert view.

Both run in the same gunicorn (sync workers) on a loopback port, against a scratch PostgreSQL
database this script creates, migrates and seeds (a small network of feeders, transformers
and service points in Futian, one confirmed outage so part of the calls merge), with Redis as
cache, throttle store and Celery broker. The load generator is ``wrk`` (Debian package;
installed when missing, else a bounded Python thread generator), one run of ``--seconds`` per
endpoint and round, rounds alternating so both see the same machine state. The ratio is the
median over rounds of intake / the bare run just before it; beside it, the gunicorn workers'
CPU time per request of each endpoint (from /proc), which neighbours on a shared machine do
not distort: its ratio is the capacity ratio when the web tier is the bottleneck.

What is measured per request of the real endpoint: DRF parsing and validation, the throttle
(Redis), the idempotency check (every request carries a fresh ``Idempotency-Key``), the
resolution and the merge check (account: exact number; address: exact address, else the
search's tiers; coordinates: the service area test and the nearest service point; each read
with the premise's interruptions in one statement), the insert committed on its own, the
answer (a merged call's outage, progress and crew from the worker's copy per outage
version), and the debounced roll-up trigger (a Redis ``SET NX`` a few times per debounce
interval and worker; one task message per interval goes to the Redis broker, where no worker
consumes it — the roll-up itself stays out of the request path, as in production where it
runs on a Celery worker). The bare view parses the JSON body and inserts one
``TroubleReport`` row. Before the runs, the SQL statements of one warm report of each kind
(account, address, coordinates, merged into the seeded outage) are counted in process.

Target: the real endpoint at ≥ 0.5 of the bare view's requests per second.

    .venv/bin/python bench/intake_throughput.py
    .venv/bin/python bench/intake_throughput.py --seconds 20 --workers 3 --mix account=1

The PostgreSQL server is the one of ``DATABASE_URL`` (only the database name is replaced);
Redis is ``REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), used under its own key prefix.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402

SETTINGS = "bench._intake_settings"
INTAKE_PATH = "/api/v1/public/reports"
BARE_PATH = "/bench/bare"
TARGET_RATIO = 0.5
STREETS = ["福华路", "深南中路", "华强北路", "彩田路", "新洲路", "益田路", "金田路", "滨河大道"]


def _env(database: str, redis_url: str, settings: str = SETTINGS) -> dict[str, str]:
    """The environment of a benchmark's gunicorn: production settings plus ``settings``."""
    return {
        **os.environ,
        "DATABASE_URL": _server_url(database),
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": "bench-only-secret",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": settings,
        "PYTHONPATH": str(ROOT),
    }


def _seed(customers: int, rng: random.Random) -> list[dict]:
    """Network, service points and one outage; returns the service points as plain dicts."""
    from django.core.management import call_command
    from django.db import connection

    from grids.address import normalize_address
    from grids.models import Device, District, Feeder, Grid, Node, ServicePoint, Substation
    from grids.services import topology_rebuild
    from outages import services
    from outages.models import Outage, OutageType

    call_command("migrate", verbosity=0)
    district, _ = District.objects.get_or_create(
        code="440304",
        defaults={
            "name": "福田区",
            "name_en": "Futian",
            "center_lat": 22.541,
            "center_lng": 114.05,
        },
    )
    grid = Grid.objects.create(code="G-BENCH", name="基准网格", district=district)
    sub = Substation.objects.create(code="SS-BENCH", name="基准变电站", district=district)
    feeders, sections, per_section = 4, 4, 5
    per_transformer = max(1, customers // (feeders * sections * per_section))
    sps: list[ServicePoint] = []
    first_switch = None
    number = 0
    for f in range(feeders):
        feeder = Feeder.objects.create(code=f"F-BENCH-{f}", name=f"馈线{f}", substation=sub)
        source = Node.objects.create(code=f"F{f}-SRC", is_source=True)
        bus = Node.objects.create(code=f"F{f}-BUS")
        Device.objects.create(
            code=f"F{f}-B", kind="breaker", feeder=feeder, node_a=source, node_b=bus
        )
        for s in range(sections):
            section_bus = Node.objects.create(code=f"F{f}-S{s}-BUS")
            switch = Device.objects.create(
                code=f"F{f}-S{s}",
                kind="load_break_switch",
                feeder=feeder,
                node_a=bus,
                node_b=section_bus,
            )
            first_switch = first_switch or switch
            for t in range(per_section):
                lat = 22.525 + f * 0.008 + s * 0.002 + rng.random() * 0.001
                lng = 114.03 + t * 0.004 + rng.random() * 0.001
                transformer = Device.objects.create(
                    code=f"F{f}-S{s}-T{t}",
                    kind="transformer",
                    feeder=feeder,
                    node_a=section_bus,
                    node_b=Node.objects.create(code=f"F{f}-S{s}-T{t}-LV"),
                    lat=lat,
                    lng=lng,
                )
                for _c in range(per_transformer):
                    number += 1
                    street = STREETS[number % len(STREETS)]
                    address = f"深圳市福田区{street}{number}号"
                    sps.append(
                        ServicePoint(
                            account_no=f"0755{number:08d}",
                            customer_name="基准用户",
                            phone=f"139{number:08d}",
                            address=address,
                            address_norm=normalize_address(address),
                            lat=lat + rng.gauss(0, 0.0003),
                            lng=lng + rng.gauss(0, 0.0003),
                            transformer=transformer,
                            grid=grid,
                            district=district,
                        )
                    )
        topology_rebuild(feeder_ids=[feeder.pk])
    ServicePoint.objects.bulk_create(sps, batch_size=2000)
    services.outage_create(
        type=OutageType.objects.get(code="fault_mv_feeder"),
        device=Device.objects.get(pk=first_switch.pk),
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [
        {"account_no": sp.account_no, "address": sp.address, "lat": sp.lat, "lng": sp.lng}
        for sp in sps
    ]


def _bodies(points: list[dict], mix: dict[str, int], count: int, rng: random.Random) -> list[str]:
    modes = [mode for mode, weight in mix.items() for _ in range(weight)]
    out = []
    for i in range(count):
        sp = rng.choice(points)
        body = {"symptom": "no_power", "phone": f"1380000{i % 10000:04d}", "channel": "web"}
        mode = rng.choice(modes)
        if mode == "account":
            body["account_no"] = sp["account_no"]
        elif mode == "address":
            body["address"] = sp["address"]
        else:
            body["lat"] = round(sp["lat"] + rng.gauss(0, 0.00005), 6)
            body["lng"] = round(sp["lng"] + rng.gauss(0, 0.00005), 6)
        out.append(json.dumps(body))  # ASCII (\\u escapes): safe inside a Lua long string
    return out


def _statements_per_request(points: list[dict], rng: random.Random) -> dict[str, int]:
    """SQL statements of one report of each kind, in process (Django's test client; the
    throttle and the roll-up trigger go to Redis as in the served runs), after two warm-up
    calls with the same body: what a worker runs per call once its caches are filled."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from outages.models import Interruption

    out_account = (
        Interruption.objects.filter(started_at__isnull=False, ended_at__isnull=True)
        .values_list("service_point__account_no", flat=True)
        .first()
    )
    kinds: dict[str, list[dict]] = {}
    for mode in ("account", "address", "coords"):
        kinds[mode] = [json.loads(_bodies(points, {mode: 1}, 1, rng)[0])] * 3
    if out_account:
        base = {"symptom": "no_power", "phone": "13800000000", "channel": "web"}
        kinds["merged"] = [{**base, "account_no": out_account}] * 3
    client = Client()
    counts = {}
    for kind, bodies in kinds.items():
        for i, body in enumerate(bodies):
            with CaptureQueriesContext(connection) as queries:
                response = client.post(
                    INTAKE_PATH,
                    data=json.dumps(body),
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"statements-{kind}-{i}-{os.getpid()}",
                )
            if response.status_code != 201:
                raise SystemExit(f"{kind} report answered {response.status_code}")
        counts[kind] = len(queries.captured_queries)
    return counts


def _lua(bodies: list[str], scratch: Path) -> Path:
    entries = ",\n".join(f"[==[{b}]==]" for b in bodies)
    script = scratch / "post.lua"
    script.write_text(
        "local bodies = {\n" + entries + "\n}\n"
        "local n = #bodies\n"
        "local counter = 0\n"
        'local prefix = "k"\n'
        "init = function(args) prefix = args[1] or prefix end\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        '  local headers = {["Content-Type"] = "application/json",'
        ' ["Idempotency-Key"] = prefix .. "-" .. counter}\n'
        '  return wrk.format("POST", nil, headers, bodies[(counter % n) + 1])\n'
        "end\n"
    )
    return script


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: running apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    except (OSError, subprocess.CalledProcessError):
        print("  could not install wrk: using the Python load generator")
        return None
    return shutil.which("wrk")


def start_gunicorn(port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    """The project's WSGI application in gunicorn (sync workers) on a loopback ``port``."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "dispatch_center.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "sync", "--chdir", str(ROOT), "--log-level", "warning"]
    return subprocess.Popen(command, env=env, start_new_session=True)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _wrk(wrk: str, port: int, path: str, script: Path, seconds: int, conns: int, tag: str):
    cmd = [
        wrk,
        "-t1",
        f"-c{conns}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{path}",
        "--",
        tag,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not rate:
        raise SystemExit(f"wrk failed on {path}:\n{out}")
    latency = {
        p: _ms(v, unit) for p, v, unit in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)
    }
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return float(rate.group(1)), latency, int(bad.group(1)) if bad else 0, errors


def _worker_cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn workers of ``master``."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _python_load(port: int, path: str, bodies: list[str], seconds: int, conns: int, tag: str):
    deadline = time.monotonic() + seconds
    counts, bad, latencies = [0] * conns, [0] * conns, []

    def worker(i: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            started = time.perf_counter()
            conn.request(
                "POST",
                path,
                body=bodies[(i * 7919 + n) % len(bodies)],
                headers={"Content-Type": "application/json", "Idempotency-Key": f"{tag}-{i}-{n}"},
            )
            response = conn.getresponse()
            response.read()
            conn.close()
            latencies.append((time.perf_counter() - started) * 1000)
            counts[i] += 1
            if response.status >= 300:
                bad[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    pct = {
        "50": latencies[len(latencies) // 2],
        "99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }
    return sum(counts) / (time.monotonic() - start), pct, sum(bad), None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=6, help="per run")
    parser.add_argument("--rounds", type=int, default=5, help="bare and intake alternate")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument(
        "--mix", default="account=5,address=3,coords=2", help="location modes and weights"
    )
    parser.add_argument("--database", default=f"bench_intake_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    mix = {k: int(v) for k, v in (item.split("=") for item in args.mix.split(","))}
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    rng = random.Random(20261123)

    _admin("CREATE DATABASE {}", args.database)
    proc = None
    try:
        os.environ.update(_env(args.database, redis_url))
        import django

        django.setup()
        from django.db import connections

        print(f"seeding {args.customers} service points in {args.database} ...")
        points = _seed(args.customers, rng)
        statements = _statements_per_request(points, random.Random(7))
        connections.close_all()
        bodies = _bodies(points, mix, 3000, rng)
        scratch = Path(tempfile.mkdtemp(prefix="bench-intake-"))
        script = _lua(bodies, scratch)
        wrk = _ensure_wrk()
        port = _free_port()
        proc = start_gunicorn(port, args.workers, _env(args.database, redis_url))
        _wait_ready(port)

        def run(path: str, seconds: int, tag: str):
            cpu_before = _worker_cpu_seconds(proc.pid)
            if wrk:
                out = _wrk(wrk, port, path, script, seconds, args.connections, tag)
            else:
                out = _python_load(port, path, bodies, seconds, args.connections, tag)
            requests = max(out[0] * seconds, 1)
            cpu_ms = (_worker_cpu_seconds(proc.pid) - cpu_before) * 1000 / requests
            return (*out, cpu_ms)

        # Warm-up: every worker imports, connects and fills its caches on both paths.
        run(BARE_PATH, 3, "warm-bare")
        run(INTAKE_PATH, 3, "warm-intake")
        results: dict[str, list] = {BARE_PATH: [], INTAKE_PATH: []}
        for r in range(args.rounds):
            for path in (BARE_PATH, INTAKE_PATH):
                results[path].append(run(path, args.seconds, f"r{r}-{path.strip('/')}"))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    from django.db.models import Count

    from dispatch_center.celery import app
    from outages.models import TroubleReport

    statuses = dict(
        TroubleReport.objects.exclude(reference__startswith="B")
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    try:
        purged = app.control.purge()  # the roll-up tasks no worker consumed
    except Exception as exc:  # noqa: BLE001 - reporting only
        purged = f"not purged: {exc}"
    from django.db import connections

    connections.close_all()
    if not args.keep:
        _admin("DROP DATABASE IF EXISTS {}", args.database)

    generator = "wrk (1 thread)" if wrk else "Python threads (wrk unavailable)"
    print(
        f"\nintake throughput — PostgreSQL, gunicorn {args.workers} sync workers, {generator}, "
        f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, location mix {args.mix}"
    )
    rates, cpus = {}, {}
    for path, label in ((BARE_PATH, "bare insert view"), (INTAKE_PATH, "POST " + INTAKE_PATH)):
        runs = results[path]
        rates[path] = statistics.median(r[0] for r in runs)
        cpus[path] = statistics.median(r[4] for r in runs)
        p50 = statistics.median(r[1].get("50", 0) for r in runs)
        p99 = statistics.median(r[1].get("99", 0) for r in runs)
        bad = sum(r[2] for r in runs)
        each = ", ".join(f"{r[0]:.0f}" for r in runs)
        print(
            f"  {label:32s} {rates[path]:7.0f} req/s (runs: {each})  p50 {p50:6.1f} ms  "
            f"p99 {p99:6.1f} ms  app CPU {cpus[path]:5.2f} ms/req  non-2xx {bad}"
        )
    # Neighbours on a shared machine make absolute rates drift: pair each intake run with the
    # bare run just before it, and also compare the workers' CPU per request (load-independent).
    pairs = [i[0] / b[0] for b, i in zip(results[BARE_PATH], results[INTAKE_PATH], strict=True)]
    ratio = statistics.median(pairs)
    cpu_ratio = cpus[BARE_PATH] / cpus[INTAKE_PATH]
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(
        f"  ratio intake / bare: {ratio:.2f} (median of rounds: "
        f"{', '.join(f'{p:.2f}' for p in pairs)}; {verdict} the target of >= {TARGET_RATIO})"
    )
    print(f"  capacity ratio from the workers' CPU per request: {cpu_ratio:.2f}")
    print(
        "  SQL statements per report (in process, warm): "
        + ", ".join(f"{kind} {n}" for kind, n in statements.items())
    )
    print(f"  intake reports by status: {statuses}")
    print(f"  roll-up task messages left in the broker and purged: {purged}")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
