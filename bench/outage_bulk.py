"""Benchmark: declaring, restoring and planning an outage of 10,000 customers on PostgreSQL.

Creates a scratch database (dropped at the end unless ``--keep``), migrates it, builds one
synthetic feeder (breaker → sections → transformers → customers) plus background feeders so
the tables are not trivially small, then times, over several rounds rolled back each time:

* ``outage_create`` on the feeder breaker (the interruptions, counts, map area, district);
* the interruption insert alone, PostgreSQL ``INSERT ... SELECT`` vs ``bulk_create``;
* ``outage_restore_device`` of one section, then ``outage_restore`` of the rest;
* ``planned_outage_create`` on the breaker and its start (interruptions start).

Target: the feeder outage created in well under a second.

    .venv/bin/python bench/outage_bulk.py
    .venv/bin/python bench/outage_bulk.py --customers 20000 --background 100000 --rounds 3

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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._scratch import admin as _admin  # noqa: E402
from bench._scratch import server_url as _server_url  # noqa: E402


def _setup_django(database: str) -> None:
    os.environ["DATABASE_URL"] = _server_url(database)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every query in memory
    os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.base"
    import django

    django.setup()


def _feeder(code: str, sections: int, per_section: int, customers_each: int, rng, district):
    """A feeder: breaker, ``sections`` switches, transformers below each, customers below."""
    from grids.models import Device, Feeder, Node, ServicePoint, Substation

    sub, _ = Substation.objects.get_or_create(code=f"SS-{code}", defaults={"name": code})
    feeder = Feeder.objects.create(code=code, name=code, substation=sub)
    nodes = iter(
        Node.objects.bulk_create(
            [Node(code=f"{code}-N{i}") for i in range(2 + sections * (1 + 2 * per_section))]
        )
    )
    source = Node.objects.create(code=f"{code}-SRC", is_source=True)
    bus = next(nodes)
    breaker = Device.objects.create(
        code=f"{code}-B", kind="breaker", feeder=feeder, node_a=source, node_b=bus
    )
    devices, transformers = [], []
    lat0, lng0 = 22.5 + rng.random() * 0.2, 113.9 + rng.random() * 0.3
    for s in range(sections):
        section_bus = next(nodes)
        devices.append(
            Device(
                code=f"{code}-S{s}",
                kind="load_break_switch",
                feeder=feeder,
                node_a=bus,
                node_b=section_bus,
            )
        )
        for t in range(per_section):
            lat, lng = lat0 + s * 0.001 + rng.gauss(0, 0.0005), lng0 + t * 0.0008
            transformers.append(
                Device(
                    code=f"{code}-S{s}-T{t}",
                    kind="transformer",
                    feeder=feeder,
                    node_a=section_bus,
                    node_b=next(nodes),
                    lat=lat,
                    lng=lng,
                )
            )
    Device.objects.bulk_create(devices + transformers, batch_size=2000)
    sps = []
    for tr in Device.objects.filter(feeder=feeder, kind="transformer"):
        for c in range(customers_each):
            sps.append(
                ServicePoint(
                    account_no=f"{tr.code}-{c}"[-20:],
                    customer_name="bench",
                    address=f"{tr.code} {c}号",
                    address_norm=f"{tr.code}{c}号",
                    lat=tr.lat + rng.gauss(0, 0.0002),
                    lng=tr.lng + rng.gauss(0, 0.0002),
                    transformer=tr,
                    district=district,
                    is_important=rng.random() < 0.01,
                )
            )
    ServicePoint.objects.bulk_create(sps, batch_size=5000)
    from grids.services import topology_rebuild

    topology_rebuild(feeder_ids=[feeder.pk])
    breaker.refresh_from_db()
    return breaker, len(sps)


def _vacuum() -> None:
    """What autovacuum does in production: clear the rolled-back rows, refresh statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE outages_interruption")
        cursor.execute("VACUUM ANALYZE outages_outage")


def _delete_outage(outage_id: int) -> None:
    """Remove a committed outage and its rows (raw: other apps' models may lack tables here)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table, column in (
            ("outages_interruption", "outage_id"),
            ("outages_outageevent", "outage_id"),
            ("outages_etrchange", "outage_id"),
            ("outages_outage_extra_devices", "outage_id"),
            ("outages_outage", "id"),
        ):
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [outage_id])  # noqa: S608


def _timed(rounds: int, body: Callable[[], object]) -> list[float]:
    """Run ``body`` ``rounds`` times, each in a transaction rolled back; milliseconds."""
    from django.db import transaction

    times = []
    for _ in range(rounds):
        with transaction.atomic():
            started = time.perf_counter()
            body()
            times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
        _vacuum()
    return times


def _line(label: str, times: list[float]) -> None:
    print(f"  {label:<46} median {statistics.median(times):8.1f} ms   min {min(times):8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="dc_bench_outage_bulk")
    parser.add_argument("--customers", type=int, default=10_000, help="on the measured feeder")
    parser.add_argument("--background", type=int, default=40_000, help="customers elsewhere")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--profile", action="store_true", help="profile one outage_create")
    args = parser.parse_args()

    _admin("DROP DATABASE IF EXISTS {}", args.database)
    _admin("CREATE DATABASE {}", args.database)
    try:
        _setup_django(args.database)
        return _run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin("DROP DATABASE IF EXISTS {}", args.database)


def _run(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from grids.models import Device, District
    from outages import events, services
    from outages.models import Interruption, Outage, OutageType
    from outages.publicmap.geometry import area_bytes
    from outages.services import common

    # Measure the outages app alone: higher apps' subscribers (work orders...) are detached.
    for name in events.EVENTS:
        for handler in events.subscribers(name):
            events.unsubscribe(name, handler)
    rng = random.Random(42)
    call_command("migrate", verbosity=0)
    district = District.objects.create(code="440304", name="福田区")
    sections, customers_each = 20, 50
    per_section = max(1, args.customers // (sections * customers_each))
    started = time.monotonic()
    breaker, customers = _feeder("BENCH", sections, per_section, customers_each, rng, district)
    made = 0
    fault = OutageType.objects.get(code="fault_mv_feeder")
    while made < args.background:
        head, n = _feeder(f"BG{made}", sections, per_section, customers_each, rng, district)
        made += n
        # History: a past outage of that whole feeder, restored, so the interruption table
        # and its statistics look like production's rather than empty.
        past = services.outage_create(
            type=fault,
            device=head,
            source=Outage.Source.SCADA,
            actor=None,
            status="confirmed",
            started_at=timezone.now() - timedelta(days=3),
        )
        services.outage_restore(outage=past, actor=None, at=timezone.now() - timedelta(days=2))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"network: {customers} customers on the measured feeder, {made} elsewhere with a past "
        f"outage each ({Interruption.objects.count()} interruptions in the table) "
        f"(built in {time.monotonic() - started:.1f} s); {args.rounds} rounds each, rolled back"
    )
    planned = OutageType.objects.get(code="planned_maintenance")
    section = Device.objects.get(code="BENCH-S0")
    results: dict[str, object] = {}

    def create():
        results["outage"] = services.outage_create(
            type=fault, device=breaker, source=Outage.Source.SCADA, actor=None, status="confirmed"
        )

    print("feeder outage (PostgreSQL):")
    _line("outage_create (everything, rolled back)", _timed(args.rounds, create))
    committed = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        create()  # its own transaction, committed: deferred FK checks included
        committed.append((time.perf_counter() - started) * 1000)
        outage = results["outage"]
        assert isinstance(outage, Outage)
        with_area = area_bytes(outage.area)
        _delete_outage(outage.pk)
        _vacuum()
    _line("outage_create (everything, committed)", committed)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        with transaction.atomic():
            profiler.runcall(create)
            transaction.set_rollback(True)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)

    for method in ("sql", "orm"):

        def insert(method=method):
            bare = Outage.objects.create(
                type=fault,
                status="confirmed",
                source="scada",
                device=breaker,
                started_at=timezone.now(),
            )
            common.insert_interruptions(
                outage=bare,
                service_points=common.scope_service_points(device=breaker),
                started_at=bare.started_at,
                method=method,
            )
            results["rows"] = Interruption.objects.filter(outage=bare).count()

        label = "INSERT ... SELECT" if method == "sql" else "bulk_create from values_list"
        _line(f"  interruptions only: {label}", _timed(args.rounds, insert))
    assert results["rows"] == customers

    def restore():
        o = services.outage_create(
            type=fault, device=breaker, source="scada", actor=None, status="confirmed"
        )
        t0 = time.perf_counter()
        o = services.outage_restore_device(outage=o, device=section, actor=None)
        results["partial"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        services.outage_restore(outage=o, actor=None)
        results["full"] = (time.perf_counter() - t0) * 1000

    partial, full = [], []
    for _ in range(args.rounds):
        _timed(1, restore)
        partial.append(results["partial"])
        full.append(results["full"])
    _line(f"outage_restore_device (1 section, {customers // sections})", partial)
    _line(f"outage_restore (the other {customers - customers // sections})", full)

    def plan():
        start = timezone.now() + timedelta(days=8)
        t0 = time.perf_counter()
        o = services.planned_outage_create(
            type=planned,
            devices=[breaker],
            planned_start_at=start,
            planned_end_at=start + timedelta(hours=4),
            description="bench",
            actor=None,
        )
        results["plan"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        services.planned_outage_start(outage=o)
        results["start"] = (time.perf_counter() - t0) * 1000

    plans, starts = [], []
    for _ in range(args.rounds):
        _timed(1, plan)
        plans.append(results["plan"])
        starts.append(results["start"])
    _line("planned_outage_create (to be interrupted)", plans)
    _line("planned_outage_start (interruptions start)", starts)
    print(f"map area of the feeder outage: {with_area} bytes of GeoJSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
