"""Benchmark: dispatch latency through real Redis and a real Celery worker process.

Creates a scratch PostgreSQL database (dropped at the end unless ``--keep``), migrates it,
seeds one grid and station per Shenzhen district and ``--crews`` crews scattered over the
districts (capacity 3 each, on duty, located), then starts
``celery -A dispatch_center worker -Q dispatch,default`` as a subprocess against it and measures,
in the same run and on the same worker:

* **no-op burst**: ``--orders`` no-op tasks sent as fast as possible to the dispatch queue;
  latency = send → the task ran on the worker (worker clock, same machine);
* **order burst**: ``--orders`` orders raised as fast as possible (``work_order_create``, one
  transaction each; the dispatch task is enqueued on commit); latency = commit → the order's
  ``dispatched_at`` (set by the worker when it assigns the crew). Storm mode is on as soon as
  more than ``WORKORDERS_STORM_THRESHOLD`` orders wait, so most go through batch matching;
* **idle**: 20 no-ops one at a time (send → result back) and 20 orders one at a time
  (commit → assigned), the latency of a quiet moment.

Target: order-burst p95 ≤ 3 × no-op-burst p95. Storm mode matches all waiting orders at once
and plans the offers no crew has accepted yet again with each batch (rolling horizon), so it
also prints, for the burst: offers changed per order, and total travel of the final offers
against the offline optimum over the same orders and crews (one matching of all burst orders,
with the crews as they were when the burst began, same policy); target within 5 %.

    .venv/bin/python bench/dispatch_latency.py --quick     # 200 orders, about a minute
    .venv/bin/python bench/dispatch_latency.py             # the 1,000-order burst
    .venv/bin/python bench/dispatch_latency.py --orders 1000 --crews 1000 --concurrency 2

The servers are those of DATABASE_URL (only the database name is replaced by ``--database``)
and REDIS_URL (default redis://127.0.0.1:6379/0; its dispatch and default queues are purged).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402


def _env(database: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = _server_url(database)
    env["REDIS_URL"] = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    env["DJANGO_DEBUG"] = "false"  # DEBUG would keep every query in memory
    env["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.base"
    env["CACHE_KEY_PREFIX"] = f"bench-{database}"
    env["LOG_LEVEL"] = "WARNING"
    return env


def _setup_django(database: str) -> None:
    os.environ.update(_env(database))
    import django

    django.setup()


def _seed(crews: int, rng: random.Random) -> list:
    """Districts, one grid and station per district, crews scattered inside the districts."""
    from grids.geodata import DISTRICTS
    from grids.models import Crew, District, Grid, RepairStation

    grids = []
    for info in DISTRICTS:
        district = District.objects.create(
            code=info.code,
            name=info.name,
            name_en=info.name_en,
            center_lat=info.center_lat,
            center_lng=info.center_lng,
        )
        grid = Grid.objects.create(
            code=f"G-{info.code}",
            name=f"{info.name}网格",
            district=district,
            center_lat=info.center_lat,
            center_lng=info.center_lng,
        )
        RepairStation.objects.create(
            code=f"ST-{info.code}",
            name=f"{info.name}服务站",
            grid=grid,
            lat=info.center_lat,
            lng=info.center_lng,
        )
        grids.append((grid, info.bbox))
    from django.utils import timezone

    now = timezone.now()
    stations = {s.grid_id: s for s in RepairStation.objects.all()}
    rows = []
    for i in range(crews):
        grid, (min_lng, min_lat, max_lng, max_lat) = grids[i % len(grids)]
        rows.append(
            Crew(
                code=f"CR{i:05d}",
                name=f"抢修班{i}",
                station=stations[grid.pk],
                capacity=3,
                last_lat=rng.uniform(min_lat, max_lat),
                last_lng=rng.uniform(min_lng, max_lng),
                last_located_at=now,
            )
        )
    Crew.objects.bulk_create(rows, batch_size=1000)
    return grids


def _start_worker(database: str, concurrency: int) -> subprocess.Popen:
    # The interpreter running this script, so the worker uses the same virtualenv.
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "dispatch_center",
        "worker",
        "-Q",
        "dispatch,default",
        "-c",
        str(concurrency),
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"bench-{database}@%h",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=_env(database))


def _wait_ready(noop, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            noop.apply_async(args=(time.time(),), queue="dispatch").get(timeout=5)
            return
        except Exception:  # noqa: BLE001 - the worker is still starting
            time.sleep(0.5)
    raise SystemExit("the worker did not start")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _line(label: str, values_ms: list[float]) -> str:
    return (
        f"{label:<42} n={len(values_ms):>5}  p50={_pct(values_ms, 0.5):8.1f} ms  "
        f"p95={_pct(values_ms, 0.95):8.1f} ms  max={max(values_ms):8.1f} ms"
    )


def _noop_burst(noop, n: int) -> list[float]:
    results = [noop.apply_async(args=(time.time(),), queue="dispatch") for _ in range(n)]
    latencies = []
    for result in results:
        sent, ran = result.get(timeout=300)
        latencies.append((ran - sent) * 1000)
    return latencies


def _raise_order(grids, rng, commits: dict[int, float]):
    from django.db import transaction

    from workorders import services
    from workorders.models import WorkOrder

    grid, (min_lng, min_lat, max_lng, max_lat) = grids[rng.randrange(len(grids))]
    stamp: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs first at commit: the moment the order is committed.
        transaction.on_commit(lambda: stamp.append(time.time()))
        order = services.work_order_create(
            kind=WorkOrder.Kind.PREMISE_REPAIR,
            title="bench",
            actor=None,
            lat=rng.uniform(min_lat, max_lat),
            lng=rng.uniform(min_lng, max_lng),
            grid=grid,
        )
    commits[order.pk] = stamp[0]
    return order.pk


def _wait_assigned(ids: list[int], timeout: float) -> dict[int, float]:
    from workorders.models import WorkOrder

    deadline = time.monotonic() + timeout
    done: dict[int, float] = {}
    while time.monotonic() < deadline and len(done) < len(ids):
        rows = WorkOrder.objects.filter(
            pk__in=[i for i in ids if i not in done], dispatched_at__isnull=False
        ).values_list("pk", "dispatched_at")
        for pk, at in rows:
            done[pk] = at.timestamp()
        if len(done) < len(ids):
            time.sleep(0.002 if len(ids) == 1 else 0.05)
    return done


def _wait_batches_idle(timeout: float) -> None:
    """Until no storm batch runs or is owed (the worker shares this process's cache)."""
    from workorders.services import batch_lease

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if batch_lease.batch_owed() is None and batch_lease.lease_remaining_seconds() == 0:
            return
        time.sleep(0.2)


def _quality(ids: list[int], crews_before: list, started_at) -> str:
    """Offers changed per order, and the burst's final travel against the offline optimum."""
    from workorders import dispatching, selectors
    from workorders.models import DispatchDecision, WorkOrder
    from workorders.services.assign import dispatch_policy

    policy = dispatch_policy()
    orders = list(WorkOrder.objects.filter(pk__in=ids).select_related("grid", "skill_needed"))
    requests = {o.pk: selectors.work_order_dispatch_request(o) for o in orders}
    crew_of = {o.pk: o.crew_id for o in orders if o.crew_id is not None}
    states = {c.id: c for c in crews_before}

    def travel(order_id: int, crew_id: int) -> float:
        ranking = dispatching.rank_crews(
            requests[order_id], [states[crew_id]], now=started_at, policy=policy
        )
        if ranking.best is None:  # full in the snapshot: price the trip without the queue
            free = dispatching.CrewState(**{**_fields(states[crew_id]), "open_orders": 0})
            ranking = dispatching.rank_crews(requests[order_id], [free], now=started_at)
        return ranking.best.travel_min if ranking.best else 0.0

    online = sum(travel(o, c) for o, c in crew_of.items())
    best = dispatching.assign_batch(
        [r for r in requests.values() if r is not None], crews_before, now=started_at, policy=policy
    )
    optimum = sum(a.candidate.travel_min for a in best.assignments)
    moved = DispatchDecision.objects.filter(
        order_id__in=ids, data__has_key="replanned_from"
    ).count()
    gap = (online / optimum - 1.0) * 100.0 if optimum else 0.0
    verdict = "meets" if gap <= 5.0 else "misses"
    return (
        f"burst travel: {online:,.0f} min over {len(crew_of)} offers vs offline optimum "
        f"{optimum:,.0f} min over {len(best.assignments)} ({gap:+.2f} %, {verdict} the target "
        f"of 5 %); offers changed per order {moved / max(len(ids), 1):.3f} "
        f"(replan threshold {policy.replan_min_gain_min:g} min)"
    )


def _fields(state) -> dict:
    import dataclasses

    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=None, help="burst size (default 1000)")
    parser.add_argument("--crews", type=int, default=1000)
    parser.add_argument(
        "--quick", action="store_true", help="a 200-order burst (unless --orders is given)"
    )
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--database", default="dc_bench_dispatch")
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.orders is None:
        args.orders = 200 if args.quick else 1000
    rng = random.Random(args.seed)

    _admin("DROP DATABASE IF EXISTS {}", args.database)
    _admin("CREATE DATABASE {}", args.database)
    worker = None
    try:
        _setup_django(args.database)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django.conf import settings
        from django.db.models import Count

        from dispatch_center.celery import app
        from workorders.models import DispatchDecision
        from workorders.tasks import work_orders_noop_task as noop

        grids = _seed(args.crews, rng)
        app.control.purge()
        worker = _start_worker(args.database, args.concurrency)
        _wait_ready(noop)
        print(
            f"{args.crews} crews, {args.orders} orders, worker -c {args.concurrency}, "
            f"storm threshold {settings.WORKORDERS_STORM_THRESHOLD}, "
            f"batch delay {settings.WORKORDERS_BATCH_DELAY_SECONDS}s"
        )

        # Idle: one at a time.
        idle_noop = []
        for _ in range(20):
            sent = time.time()
            noop.apply_async(args=(sent,), queue="dispatch").get(timeout=30)
            idle_noop.append((time.time() - sent) * 1000)
        idle_orders = []
        for _ in range(20):
            commits: dict[int, float] = {}
            pk = _raise_order(grids, rng, commits)
            assigned = _wait_assigned([pk], timeout=30)
            idle_orders.append((assigned[pk] - commits[pk]) * 1000)

        # Bursts.
        noop_burst = _noop_burst(noop, args.orders)
        from django.utils import timezone

        from workorders import selectors

        crews_before = selectors.crew_states_for_dispatch()
        burst_at = timezone.now()
        commits = {}
        started = time.time()
        ids = [_raise_order(grids, rng, commits) for _ in range(args.orders)]
        raised_in = time.time() - started
        assigned = _wait_assigned(ids, timeout=300)
        _wait_batches_idle(timeout=120)  # the last batch runs may still move offers
        order_burst = [(assigned[pk] - commits[pk]) * 1000 for pk in ids if pk in assigned]
        modes = dict(
            DispatchDecision.objects.filter(order_id__in=ids, crew__isnull=False)
            .values_list("mode")
            .annotate(n=Count("pk"))
            .order_by()
        )

        print(_line("idle no-op round trip (send → result)", idle_noop))
        print(_line("idle order (commit → assigned)", idle_orders))
        print(_line("burst no-op (send → ran on worker)", noop_burst))
        print(_line("burst order (commit → assigned)", order_burst))
        print(
            f"burst: {len(ids)} orders raised in {raised_in:.2f} s, "
            f"{len(assigned)} assigned, decisions by mode {modes}"
        )
        ratio = _pct(order_burst, 0.95) / max(_pct(noop_burst, 0.95), 1e-9)
        verdict = "meets" if ratio <= 3 else "misses"
        print(
            f"commit-to-assignment p50 {_pct(order_burst, 0.5):.0f} ms, "
            f"p95 {_pct(order_burst, 0.95):.0f} ms; no-op round trip p50 "
            f"{_pct(noop_burst, 0.5):.0f} ms, p95 {_pct(noop_burst, 0.95):.0f} ms"
        )
        print(f"order p95 / no-op p95 = {ratio:.2f} ({verdict} the target of 3)")
        print(_quality(ids, crews_before, burst_at))
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if len(assigned) < len(ids):
            print(f"WARNING: {len(ids) - len(assigned)} orders were not assigned in time")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", args.database)


if __name__ == "__main__":
    main()
