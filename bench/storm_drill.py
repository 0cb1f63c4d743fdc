"""The storm drill: the whole system under a typhoon's calls and map traffic, end to end.

    .venv/bin/python bench/storm_drill.py                      # 200,000 customers, 1x and 2x
    .venv/bin/python bench/storm_drill.py --service-points 1000000 --calls 6000 --minutes 6

What runs is production's processes on PostgreSQL and Redis (``DATABASE_URL``'s server with a
scratch database of its own, ``REDIS_URL``'s server with its own db, ``--redis-db``):
gunicorn (``--gunicorn-workers`` sync workers), a Celery worker per queue (dispatch, default,
analytics) and beat, with the production settings (``settings.base``) plus a bare insert view
in the same gunicorn to measure the insert capacity beside the intake. The demo city is built
at ``--service-points`` (``seed_demo``), then each run gets a copy of that database
(``CREATE DATABASE … TEMPLATE``) and a clean Redis db, so both runs start from the same city.

The storm (``bench/_drill_plan.py``): feeder trips (also reported by SCADA), lateral fuse and
transformer faults, lone premise faults, about ``--calls`` calls over two simulated hours
compressed into ``--minutes`` of wall time, through the hotline (staff API, by account), the
app (staff API channel ``app``, by position) and the web (public API, by address or account,
each caller with its own client address through the trusted proxy, so the public rate limit
stays on), plus repeat callers and noise calls from customers with power. Meanwhile map
clients poll ``current.json`` with their ETag, fetch the files a new version names, and look
addresses up (``--map-rate`` requests a second in all). The first run is at ``--calls``, the
second at twice that, unless ``--single``.

Measured, per run, printed as a table and as one JSON object on the last line (the second
run's figures at the top level, both runs under ``runs``): calls_sent, calls_saved,
lost_calls (not acknowledged, or acknowledged and not in the database), intake_p50_ms,
intake_p99_ms, intake_errors; faults (faults with two or more calls), faults_found (an outage
at the faulted device or one with exactly its customers), minutes_to_prediction_p50 / p95
(from the fault's second call), orders_dispatched, minutes_to_dispatch_p95, duplicate_orders
(live repair orders beyond one per fault); map_requests, map_errors, map_p99_ms,
snapshot_staleness_p95_s (an outage's creation to its first appearance in ``current.json``'s
outage file), lookup_p99_ms; peak memory and CPU seconds per process; the calls saved per
second against the bare insert capacity of the same gunicorn.

Simplifications, printed beside the figures: the snapshot files are served by gunicorn (nginx
serves them in production); the load generator runs on the same two cores as the system;
crews do not act in the drill (dispatch is measured up to the offer).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._drill_load import (  # noqa: E402
    Callers,
    MapClients,
    MemorySampler,
    SnapshotWatcher,
    request,
)
from bench._drill_plan import Customer, Fault, percentile, plan_storm  # noqa: E402
from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402

AGENT_TOKEN = "d" * 40
SCADA_TOKEN = "5" * 40
SIMPLIFICATIONS = [
    "snapshot files served by gunicorn (nginx in production)",
    "load generator on the same 2 cores as the system",
    "crews do not act: dispatch measured up to the offer",
]


def _redis_url(db: int) -> str:
    url = urlparse(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunparse(url._replace(path=f"/{db}"))


def _use_database(name: str) -> None:
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = name


# --- the city -----------------------------------------------------------------------------


def _seed_city(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from dispatch_center.core import roles

    call_command("migrate", verbosity=0)
    call_command(
        "seed_demo",
        service_points=args.service_points,
        feeders_per_grid=args.feeders_per_grid,
        no_progress=True,
        verbosity=0,
    )
    for name, role, key in (
        ("drill-agent", roles.HOTLINE_AGENT, AGENT_TOKEN),
        ("drill-scada", roles.SCADA_GATEWAY, SCADA_TOKEN),
    ):
        user = User.objects.create_user(name)
        user.groups.add(Group.objects.get(name=role))
        Token.objects.create(user=user, key=key)
    # VACUUM too: a freshly bulk-loaded table has no visibility map, so the index-only scans
    # of the look-up and the roll-up would visit the heap for every row.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _equivalent(device, customers: int) -> set[int]:
    """Device ids with exactly ``device``'s customers (on its path, above or below)."""
    from grids.models import Device
    from grids.selectors import topology

    out = {device.pk}
    below = topology.device_downstream_device_ids(device=device)[:300]
    for other in [
        *topology.device_upstream_path(device=device),
        *Device.objects.filter(pk__in=below),
    ]:
        if other.pk not in out and (
            topology.device_downstream_service_points(device=other).count() == customers
        ):
            out.add(other.pk)
    return out


def _faults(args: argparse.Namespace, rng: random.Random) -> list[Fault]:
    """Faults on distinct feeders, so none hides another."""
    from grids.models import Device, Feeder, ServicePoint
    from grids.selectors import topology

    feeders = list(Feeder.objects.order_by("pk").values_list("pk", flat=True))
    rng.shuffle(feeders)
    out: list[Fault] = []
    trips, laterals = args.feeder_trips, args.lateral_faults
    for f in feeders[:trips]:
        head = Device.objects.filter(feeder_id=f, kind="breaker").order_by("pk").first()
        if head is None:
            continue
        ids = list(
            topology.device_downstream_service_points(device=head).values_list("pk", flat=True)
        )
        if len(ids) >= 2:
            out.append(
                Fault(
                    f"trip:{head.code}",
                    "feeder_trip",
                    head.pk,
                    head.code,
                    ids,
                    _equivalent(head, len(ids)),
                )
            )
    for f in feeders[trips : trips + laterals]:
        candidates = list(Device.objects.filter(feeder_id=f, kind__in=["fuse", "transformer"]))
        rng.shuffle(candidates)
        for d in candidates[:6]:
            ids = list(
                topology.device_downstream_service_points(device=d).values_list("pk", flat=True)
            )
            if len(ids) >= 3:
                out.append(
                    Fault(
                        f"{d.kind}:{d.code}", "lateral", d.pk, d.code, ids, _equivalent(d, len(ids))
                    )
                )
                break
    premise_feeders = feeders[trips + laterals : trips + laterals + args.premise_faults]
    for f in premise_feeders:
        sp = ServicePoint.objects.filter(transformer__feeder_id=f).order_by("pk").first()
        if sp is not None:
            out.append(Fault(f"premise:{sp.account_no}", "premise", None, sp.account_no, [sp.pk]))
    return out


def _customers() -> dict[int, Customer]:
    from grids.models import ServicePoint

    rows = ServicePoint.objects.values_list("pk", "account_no", "address", "lat", "lng")
    return {r[0]: Customer(*r) for r in rows.iterator(chunk_size=20_000)}


def _queries(customers: dict[int, Customer], rng: random.Random, n: int = 5000) -> list[str]:
    """Distinct look-up texts as people type them: part of an address, or an account."""
    pool = rng.sample(list(customers.values()), min(n, len(customers)))
    out = set()
    for c in pool:
        if rng.random() < 0.2:
            out.add(c.account_no)
        else:
            text = c.address.removeprefix("深圳市")
            out.add(text[: max(4, len(text) - rng.randrange(0, 4))])
    return sorted(out)


# --- processes ----------------------------------------------------------------------------


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


def _processes(
    env: dict[str, str], port: int, scratch: Path, workers: int
) -> dict[str, subprocess.Popen]:
    py = sys.executable
    celery = [py, "-m", "celery", "-A", "dispatch_center"]
    quiet = ["--without-gossip", "--without-mingle", "-l", "WARNING"]
    return {
        "gunicorn": _start(
            [
                py,
                "-m",
                "gunicorn",
                "dispatch_center.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "60",
            ],
            env,
            scratch / "gunicorn.log",
        ),
        "worker-dispatch": _start(
            [*celery, "worker", "-Q", "dispatch", "-c", "1", "-n", "dispatch@drill", *quiet],
            env,
            scratch / "dispatch.log",
        ),
        "worker-default": _start(
            [*celery, "worker", "-Q", "default", "-c", "2", "-n", "default@drill", *quiet],
            env,
            scratch / "default.log",
        ),
        "worker-analytics": _start(
            [*celery, "worker", "-Q", "analytics", "-c", "1", "-n", "analytics@drill", *quiet],
            env,
            scratch / "analytics.log",
        ),
        "beat": _start(
            [*celery, "beat", "-l", "WARNING", "-s", str(scratch / "beat-schedule")],
            env,
            scratch / "beat.log",
        ),
    }


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _wait_ready(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if request(port, "GET", "/healthz")[0] == 200:
            return
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz")


def _bare_capacity(port: int, seconds: float, threads: int = 8) -> float:
    """Requests a second the bare insert view answers, from ``threads`` Python clients."""
    done = [0]
    lock = threading.Lock()
    end = time.time() + seconds

    def hit() -> None:
        while time.time() < end:
            status = request(port, "POST", "/bench/bare", {"phone": "13800000000"})[0]
            if status == 201:
                with lock:
                    done[0] += 1

    pool = [threading.Thread(target=hit) for _ in range(threads)]
    started = time.time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0] / (time.time() - started)


# --- one run ------------------------------------------------------------------------------


def _settle(faults: list[Fault], since, timeout: float) -> None:
    """Wait until the system is quiet: every fault's orders offered, nothing changing."""
    from outages.models import Outage
    from workorders.models import WorkOrder

    deadline, last, stable_since = time.time() + timeout, None, time.time()
    while time.time() < deadline:
        outages = Outage.objects.filter(created_at__gte=since).count()
        waiting = WorkOrder.objects.filter(
            created_at__gte=since, status__in=["created", "rejected"]
        ).count()
        state = (outages, waiting)
        if state != last:
            last, stable_since = state, time.time()
        elif waiting == 0 and time.time() - stable_since > 15:
            return
        time.sleep(3)


def _measure(plan, callers: Callers, watcher: SnapshotWatcher, since) -> dict:
    from outages.models import Outage, TroubleReport
    from workorders.models import WorkOrder

    sent = callers.sent
    keys = [s.key for s in sent]
    saved: set[str] = set()
    for i in range(0, len(keys), 2000):
        saved.update(
            TroubleReport.objects.filter(idempotency_key__in=keys[i : i + 2000]).values_list(
                "idempotency_key", flat=True
            )
        )
    acked = [s for s in sent if s.status in (200, 201)]
    lost = sum(1 for s in sent if s.status not in (200, 201) or s.key not in saved)
    secs = [s.seconds * 1000 for s in sent]
    outages = list(
        Outage.objects.filter(created_at__gte=since).values(
            "pk", "device_id", "status", "created_at"
        )
    )
    orders = list(
        WorkOrder.objects.filter(outage_id__in=[o["pk"] for o in outages]).values(
            "pk", "outage_id", "status", "created_at", "dispatched_at", "claimed_at"
        )
    )
    by_fault: dict[str, list[float]] = {}
    for s in sorted(acked, key=lambda s: s.sent_at):
        if s.call.fault:
            by_fault.setdefault(s.call.fault, []).append(s.sent_at)
    counted = found = duplicates = 0
    missed: list[str] = []
    to_prediction: list[float] = []
    for f in plan.faults:
        times = by_fault.get(f.key, [])
        if f.kind == "premise" or len(times) < 2:
            continue
        counted += 1
        mine = [o for o in outages if o["device_id"] in f.equivalent and o["status"] != "cancelled"]
        if not mine:
            missed.append(f.key)
            continue
        found += 1
        first = min(o["created_at"].timestamp() for o in mine)
        to_prediction.append(max(0.0, first - times[1]) / 60)
        ids = {o["pk"] for o in mine}
        live = [
            w
            for w in orders
            if w["outage_id"] in ids and w["status"] not in ("cancelled", "merged")
        ]
        duplicates += max(0, len(live) - 1)
    offered = [
        (w["dispatched_at"] or w["claimed_at"]) - w["created_at"]
        for w in orders
        if w["dispatched_at"] or w["claimed_at"]
    ]
    staleness = [
        watcher.first_seen[o["pk"]] - o["created_at"].timestamp()
        for o in outages
        if o["pk"] in watcher.first_seen
    ]
    rnd = lambda v, k=1: None if v is None else round(v, k)  # noqa: E731
    return {
        "calls_sent": len(sent),
        "calls_saved": len(saved),
        "lost_calls": lost,
        "intake_p50_ms": rnd(percentile(secs, 0.5)),
        "intake_p99_ms": rnd(percentile(secs, 0.99)),
        "intake_errors": len(sent) - len(acked),
        "faults": counted,
        "faults_found": found,
        "faults_missed": missed,
        "minutes_to_prediction_p50": rnd(percentile(to_prediction, 0.5), 2),
        "minutes_to_prediction_p95": rnd(percentile(to_prediction, 0.95), 2),
        "outages_created": len(outages),
        "orders_dispatched": len(offered),
        "minutes_to_dispatch_p95": rnd(
            percentile([d.total_seconds() / 60 for d in offered], 0.95), 2
        ),
        "duplicate_orders": duplicates,
        "snapshot_staleness_p95_s": rnd(percentile(staleness, 0.95)),
        "snapshot_outages_unseen": sum(1 for o in outages if o["pk"] not in watcher.first_seen),
    }


def _scada_trips(port: int, plan, t0: float, wall_per_minute: float, stop: threading.Event) -> None:
    from datetime import datetime

    for f in sorted(
        (f for f in plan.faults if f.kind == "feeder_trip"), key=lambda f: f.start_minute
    ):
        if stop.wait(max(0.0, t0 + f.start_minute * wall_per_minute - time.time())):
            return
        body = {
            "device": f.device_code,
            "event": "open",
            "at": datetime.now(UTC).isoformat(),
            "commanded": False,
        }
        request(
            port, "POST", "/api/v1/scada/events", body, {"Authorization": f"Token {SCADA_TOKEN}"}
        )


def _run(
    args, label: str, factor: int, seed_db: str, faults, customers, queries, scratch: Path
) -> dict:
    import django.utils.timezone as tz
    from django.core.management import call_command

    from outages.models import TroubleReport

    run_db = f"{seed_db}_{label}"
    _use_database("postgres")
    _admin("DROP DATABASE IF EXISTS {}", run_db)
    _admin("CREATE DATABASE {} TEMPLATE {}", run_db, seed_db)
    _use_database(run_db)
    import redis

    redis.Redis.from_url(_redis_url(args.redis_db)).flushdb()
    snapshot_dir = Path(os.environ["SNAPSHOT_DIR"])
    shutil.rmtree(snapshot_dir, ignore_errors=True)
    snapshot_dir.mkdir(parents=True)
    call_command("publish_snapshot", verbosity=0)
    rng = random.Random(args.seed * 10 + factor)
    plan = plan_storm(
        faults=[
            Fault(f.key, f.kind, f.device_id, f.device_code, f.customers, f.equivalent)
            for f in faults
        ],
        customers=customers,
        rng=rng,
        calls_wanted=args.calls * factor,
    )
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _server_url(run_db), "PYTHONPATH": str(ROOT)}
    procs = _processes(env, port, scratch, args.gunicorn_workers)
    stop = threading.Event()
    try:
        _wait_ready(port)
        bare = _bare_capacity(port, args.bare_seconds)
        TroubleReport.objects.filter(
            reference__startswith="B", idempotency_key__isnull=True
        ).delete()
        sampler = MemorySampler({name: p.pid for name, p in procs.items()})
        watcher = SnapshotWatcher(port)
        maps = MapClients(port, args.map_rate, queries)
        threads = [
            threading.Thread(target=sampler.run, daemon=True),
            threading.Thread(target=watcher.run, daemon=True),
        ]
        for t in threads:
            t.start()
        wall_per_minute = args.minutes * 60 / plan.sim_minutes
        since = tz.now()
        t0 = time.time() + 1
        map_threads = maps.start()
        trips = threading.Thread(target=_scada_trips, args=(port, plan, t0, wall_per_minute, stop))
        trips.start()
        callers = Callers(port, AGENT_TOKEN, plan.calls, wall_per_minute)
        callers.run(t0, threads=args.caller_threads)
        storm_seconds = time.time() - t0
        maps.stop.set()
        for t in map_threads:
            t.join()
        _settle(plan.faults, since, args.settle)
        out = _measure(plan, callers, watcher, since)
    finally:
        stop.set()
        for flag in ("sampler", "watcher"):
            obj = locals().get(flag)
            if obj is not None:
                obj.stop.set()
        cpu = _cpu_seconds(procs)
        _stop(procs)
        _use_database("postgres")
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", run_db)
    ms = maps.stats
    saved_rate = out["calls_saved"] / storm_seconds
    out.update(
        {
            "map_requests": ms.requests,
            "map_errors": ms.errors,
            "map_p99_ms": _ms(percentile(ms.seconds, 0.99)),
            "lookup_p99_ms": _ms(percentile(ms.lookup_seconds, 0.99)),
            "lookups": ms.lookups,
            "peak_memory_mib": sampler.peak_mib,
            "cpu_seconds": cpu,
            "storm_seconds": round(storm_seconds, 1),
            "call_in": round(plan.call_in, 3),
            "saved_per_second": round(saved_rate, 1),
            "bare_inserts_per_second": round(bare, 1),
            "saved_to_bare_ratio": round(saved_rate / bare, 3) if bare else None,
        }
    )
    return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _cpu_seconds(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    from bench._drill_load import _tree

    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for name, p in procs.items():
        total = 0
        for pid in _tree(p.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
            except (OSError, ValueError):
                continue
        out[name] = round(total / ticks, 1)
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _print(label: str, r: dict) -> None:
    print(
        f"\n== {label}: {r['calls_sent']} calls in {r['storm_seconds']} s (call-in {r['call_in']})"
    )
    for key, value in r.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        print(f"  {key:28} {value}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--service-points", type=int, default=200_000)
    p.add_argument("--feeders-per-grid", type=int, default=4)
    p.add_argument(
        "--calls", type=int, default=2500, help="calls of the first run (the second: 2x)"
    )
    p.add_argument("--minutes", type=float, default=3.0, help="wall minutes of one storm")
    p.add_argument("--map-rate", type=float, default=30.0, help="map requests a second")
    p.add_argument("--feeder-trips", type=int, default=3)
    p.add_argument("--lateral-faults", type=int, default=30)
    p.add_argument("--premise-faults", type=int, default=10)
    p.add_argument("--settle", type=float, default=90.0, help="at most this long after the storm")
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--bare-seconds", type=float, default=5.0, help="bare insert measurement")
    p.add_argument("--redis-db", type=int, default=14)
    p.add_argument("--caller-threads", type=int, default=32, help="concurrent callers at most")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--single", action="store_true", help="only the first run")
    p.add_argument("--keep", action="store_true", help="keep the scratch databases")
    p.add_argument(
        "--database", default=f"storm_drill_{os.getpid()}", help="scratch database name prefix"
    )
    args = p.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="storm-drill-"))
    seed_db = args.database
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench._drill_settings",
            "DATABASE_URL": _server_url(seed_db),
            "REDIS_URL": _redis_url(args.redis_db),
            "DJANGO_SECRET_KEY": "storm-drill-only",
            "DJANGO_DEBUG": "false",
            "SNAPSHOT_DIR": str(scratch / "snapshot"),
            "TRUSTED_PROXIES": "127.0.0.1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    _admin("DROP DATABASE IF EXISTS {}", seed_db)
    _admin("CREATE DATABASE {}", seed_db)
    results: dict[str, dict] = {}
    try:
        import django

        django.setup()
        started = time.time()
        _seed_city(args)
        rng = random.Random(args.seed)
        faults = _faults(args, rng)
        customers = _customers()
        queries = _queries(customers, rng)
        print(
            f"city: {len(customers)} service points, {len(faults)} faults, "
            f"{len(queries)} distinct look-up texts (built in {time.time() - started:.0f} s)"
        )
        for label, factor in [("1x", 1)] + ([] if args.single else [("2x", 2)]):
            results[label] = _run(args, label, factor, seed_db, faults, customers, queries, scratch)
            _print(label, results[label])
    finally:
        _use_database("postgres")
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", seed_db)
            shutil.rmtree(scratch, ignore_errors=True)
        import redis

        redis.Redis.from_url(_redis_url(args.redis_db)).flushdb()
    print("\nsimplifications: " + "; ".join(SIMPLIFICATIONS))
    last = results[list(results)[-1]]
    print(json.dumps({**last, "runs": results, "simplifications": SIMPLIFICATIONS}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
