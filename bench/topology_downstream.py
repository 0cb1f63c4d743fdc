"""Topology queries on PostgreSQL: what is downstream of a feeder head, upstream paths, switching.

Builds (bulk inserts) a synthetic feeder: a head breaker, a trunk of load-break switches with a
recloser half-way, fused laterals off every trunk node, a few hundred transformers and ~10,000
service points, plus a small second feeder joined to the end of the trunk by a normally-open
tie. Then times, over repeated runs (after warm-up):

* ``device_downstream_service_points(device=head)`` fully evaluated as a list of ids, for the
  feeder head and for a mid-trunk switch;
* ``device_downstream_transformers(device=head)`` as a list;
* ``service_point_upstream_path`` for random service points;
* a switching cycle: ``device_set_open`` on a trunk switch (rebuilds the supply tree), the
  head's downstream query right after it, closing the tie, and the other feeder's downstream
  query, then switching back.

With ``../shared/data`` present it also imports the SimBench urban MV/LV grid through
``import_network`` (timed) and times the downstream query of each of its feeder heads.

Database: ``DATABASE_URL`` if set, else ``postgres://postgres@127.0.0.1:5432/dc_bench_topology``;
the database is created if missing and migrated. Rows are written under the code prefixes
``bench-topo`` / ``bench-sb`` and deleted at the end (``--keep`` leaves them), so pointing it at a
development database is safe.

    .venv/bin/python bench/topology_downstream.py [--service-points 10000] [--transformers 300]
        [--runs 50] [--no-simbench] [--keep]
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dc_bench_topology"
PREFIX = "bench-topo"
SB_PREFIX = "bench-sb"
SIMBENCH = ROOT.parent / "shared" / "data" / "network" / "simbench_1-MVLV-urban-all-0-sw"


def ensure_database(url: str) -> None:
    """Create the database of ``url`` if it does not exist (needs CREATEDB on the server)."""
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    conn.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch_center.settings.local")
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only-not-secret")
    # DEBUG would keep every query in memory and slow the loop down.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def delete_prefix(prefix: str) -> None:
    """Remove everything an earlier run wrote under ``prefix``.

    Plain SQL deletes: the ORM's cascade collector would visit every model with a foreign key
    to these tables, and nothing but the benchmark refers to its own rows.
    """
    from django.db import connection, transaction

    from grids.models import Device, Feeder, Node, ServicePoint, Substation

    def delete(model: type, ids: list[int]) -> None:
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id = ANY(%s)", [ids])  # noqa: S608

    with transaction.atomic():
        devices = list(
            Device.objects.filter(feeder__substation__code=prefix).values_list("pk", flat=True)
        )
        delete(
            ServicePoint,
            list(
                ServicePoint.objects.filter(transformer_id__in=devices).values_list("pk", flat=True)
            ),
        )
        Device.objects.filter(pk__in=devices).update(fed_from=None, source=None)
        delete(Device, devices)
        delete(
            Node,
            list(Node.objects.filter(code__startswith=f"{prefix}:").values_list("pk", flat=True)),
        )
        delete(
            Feeder,
            list(Feeder.objects.filter(substation__code=prefix).values_list("pk", flat=True)),
        )
        delete(
            Substation, list(Substation.objects.filter(code=prefix).values_list("pk", flat=True))
        )


def build_feeder(n_points: int, n_transformers: int, trunk: int = 20) -> dict[str, object]:
    """Bulk-create the synthetic network; returns the devices the benchmark drives."""
    from django.db import transaction

    from grids.models import Device, Feeder, Node, ServicePoint, Substation
    from grids.services import topology_rebuild

    laterals_per_node = 3
    n_laterals = trunk * laterals_per_node
    per_lateral = max(1, n_transformers // n_laterals)
    lat0, lng0 = 22.54, 114.05
    rng = random.Random(20240601)

    def code(key: str) -> str:
        return f"{PREFIX}:{key}"

    with transaction.atomic():
        sub = Substation.objects.create(code=PREFIX, name="基准变电站", lat=lat0, lng=lng0)
        fa = Feeder.objects.create(code=code("A"), name="基准馈线A", substation=sub)
        fb = Feeder.objects.create(code=code("B"), name="基准馈线B", substation=sub)
        nodes: dict[str, Node] = {}

        def node(key: str, *, source: bool = False) -> str:
            nodes[key] = Node(code=code(key), is_source=source, lat=lat0, lng=lng0)
            return key

        node("S", source=True)
        for i in range(trunk + 1):
            node(f"t{i}")
        for i in range(1, trunk + 1):
            for j in range(laterals_per_node):
                node(f"l{i}.{j}")
        node("b0")
        Node.objects.bulk_create(nodes.values(), batch_size=2000)

        specs: list[tuple[str, str, Feeder, str, str, bool]] = [
            ("HA", Device.Kind.BREAKER, fa, "S", "t0", False)
        ]
        for i in range(1, trunk + 1):
            kind = Device.Kind.RECLOSER if i == trunk // 2 else Device.Kind.LOAD_BREAK_SWITCH
            specs.append((f"S{i}", kind, fa, f"t{i - 1}", f"t{i}", False))
            for j in range(laterals_per_node):
                specs.append((f"F{i}.{j}", Device.Kind.FUSE, fa, f"t{i}", f"l{i}.{j}", False))
        specs.append(("HB", Device.Kind.BREAKER, fb, "S", "b0", False))
        specs.append(("TIE", Device.Kind.LOAD_BREAK_SWITCH, fb, f"t{trunk}", "b0", True))
        transformers: list[tuple[str, Feeder, str]] = []
        for i in range(1, trunk + 1):
            for j in range(laterals_per_node):
                for k in range(per_lateral):
                    transformers.append((f"T{i}.{j}.{k}", fa, f"l{i}.{j}"))
        for k in range(5):
            transformers.append((f"TB{k}", fb, "b0"))
        lv_nodes = [Node(code=code(f"{t}.lv"), lat=lat0, lng=lng0) for t, _, _ in transformers]
        Node.objects.bulk_create(lv_nodes, batch_size=2000)
        ids = {key: n.pk for key, n in nodes.items()}
        devices = [
            Device(
                code=code(key),
                kind=kind,
                feeder=feeder,
                node_a_id=ids[a],
                node_b_id=ids[b],
                normally_open=is_open,
                is_open=is_open,
            )
            for key, kind, feeder, a, b, is_open in specs
        ]
        devices += [
            Device(
                code=code(key),
                kind=Device.Kind.TRANSFORMER,
                feeder=feeder,
                node_a_id=ids[a],
                node_b_id=lv.pk,
                rating_kva=400,
            )
            for (key, feeder, a), lv in zip(transformers, lv_nodes, strict=True)
        ]
        Device.objects.bulk_create(devices, batch_size=2000)
        feeder_a_transformers = [d for d in devices if d.kind == "transformer" and d.feeder == fa]
        points = [
            ServicePoint(
                account_no=f"{PREFIX}-{i:06d}",
                customer_name=f"用户{i}",
                address=f"深圳市福田区基准路{i}号",
                address_norm=f"基准路{i}号",
                lat=lat0 + rng.uniform(-0.02, 0.02),
                lng=lng0 + rng.uniform(-0.02, 0.02),
                transformer=feeder_a_transformers[i % len(feeder_a_transformers)],
            )
            for i in range(n_points)
        ]
        ServicePoint.objects.bulk_create(points, batch_size=5000)
        started = time.perf_counter()
        topology_rebuild(feeder_ids=[fa.pk, fb.pk])
        rebuild_ms = (time.perf_counter() - started) * 1000
    analyze()
    by_code = {d.code: d for d in Device.objects.filter(feeder__substation=sub)}
    return {
        "head": by_code[code("HA")],
        "head_b": by_code[code("HB")],
        "mid": by_code[code(f"S{trunk // 2}")],
        "cut": by_code[code(f"S{3 * trunk // 4}")],
        "tie": by_code[code("TIE")],
        "transformers": len(transformers),
        "switches": len(specs),
        "rebuild_ms": rebuild_ms,
        "point_ids": [p.pk for p in points],
    }


def analyze() -> None:
    """Refresh planner statistics, as autovacuum would shortly after a bulk load."""
    from django.db import connection

    from grids.models import Device, Node, ServicePoint

    with connection.cursor() as cursor:
        for model in (Device, Node, ServicePoint):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def row(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{label:<58} {len(samples):>5} {statistics.median(ordered):>9.2f} {p95:>9.2f}"
        f" {ordered[-1]:>9.2f}"
    )


def header() -> str:
    return f"{'':<58} {'runs':>5} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9}"


def bench_synthetic(n_points: int, n_transformers: int, runs: int) -> None:
    from grids import selectors
    from grids.models import Device, ServicePoint
    from grids.services import device_set_open

    started = time.perf_counter()
    built = build_feeder(n_points, n_transformers)
    build_s = time.perf_counter() - started
    head: Device = built["head"]  # type: ignore[assignment]
    mid: Device = built["mid"]  # type: ignore[assignment]
    cut: Device = built["cut"]  # type: ignore[assignment]
    tie: Device = built["tie"]  # type: ignore[assignment]
    head_b: Device = built["head_b"]  # type: ignore[assignment]
    point_ids: list[int] = built["point_ids"]  # type: ignore[assignment]
    print(
        f"synthetic feeder: {n_points:,} service points under {built['transformers']} "
        f"transformers, {built['switches']} switching devices (trunk, recloser, fuses, tie); "
        f"built in {build_s:.1f} s, topology_rebuild {built['rebuild_ms']:.0f} ms"
    )

    def sp_ids(device: Device) -> list[int]:
        return list(
            selectors.device_downstream_service_points(device=device).values_list("pk", flat=True)
        )

    got = len(sp_ids(head))
    assert got == n_points, f"head supplies {got} service points, expected {n_points}"
    print(header())
    print(row(f"downstream SP ids of feeder head ({got:,})", timed(lambda: sp_ids(head), runs)))
    print(
        row(
            "  the same without the model's ORDER BY account_no",
            timed(
                lambda: list(
                    selectors.device_downstream_service_points(device=head)
                    .order_by()
                    .values_list("pk", flat=True)
                ),
                runs,
            ),
        )
    )
    n_mid = len(sp_ids(mid))
    print(
        row(
            f"downstream SP ids of mid-trunk recloser ({n_mid:,})", timed(lambda: sp_ids(mid), runs)
        )
    )
    n_t = len(list(selectors.device_downstream_transformers(device=head)))
    print(
        row(
            f"downstream transformers of feeder head ({n_t})",
            timed(lambda: list(selectors.device_downstream_transformers(device=head)), runs),
        )
    )
    rng = random.Random(7)
    sample = ServicePoint.objects.in_bulk(rng.sample(point_ids, min(len(point_ids), runs + 3)))
    points = iter(list(sample.values()) * 2)
    print(
        row(
            "service_point_upstream_path (random SP)",
            timed(lambda: selectors.service_point_upstream_path(service_point=next(points)), runs),
        )
    )

    # Switching: open a trunk switch, query, close the tie, query feeder B, switch back.
    cycles = max(5, runs // 5)
    t_open, t_after, t_tie, t_after_b, t_back = [], [], [], [], []
    moved = 0
    for _ in range(cycles):
        s = time.perf_counter()
        device_set_open(device=cut, is_open=True)
        t_open.append((time.perf_counter() - s) * 1000)
        s = time.perf_counter()
        remaining = sp_ids(Device.objects.get(pk=head.pk))
        t_after.append((time.perf_counter() - s) * 1000)
        s = time.perf_counter()
        device_set_open(device=tie, is_open=False)
        t_tie.append((time.perf_counter() - s) * 1000)
        s = time.perf_counter()
        moved = len(sp_ids(Device.objects.get(pk=head_b.pk)))
        t_after_b.append((time.perf_counter() - s) * 1000)
        s = time.perf_counter()
        device_set_open(device=tie, is_open=True)
        device_set_open(device=cut, is_open=False)
        t_back.append((time.perf_counter() - s) * 1000)
    assert len(remaining) + moved == n_points
    print(row("device_set_open(trunk switch) incl. tree rebuild", t_open))
    print(row(f"  then downstream SP ids of feeder head ({len(remaining):,})", t_after))
    print(row("device_set_open(tie, closed) incl. tree rebuild", t_tie))
    print(row(f"  then downstream SP ids of feeder B ({moved:,})", t_after_b))
    print(row("switch back (tie open, trunk switch closed)", t_back))

    # A loop closed (make before break): the tie closes with the trunk switch still closed.
    # The head and the trunk are on the loop (answered by a search of the component); a
    # lateral fuse below it is still radial (the range query).
    device_set_open(device=tie, is_open=False)
    head_now = Device.objects.get(pk=head.pk)
    fuse = Device.objects.get(code=f"{PREFIX}:F1.0")
    assert head_now.on_closed_loop
    assert not fuse.on_closed_loop
    n_head, n_fuse = len(sp_ids(head_now)), len(sp_ids(fuse))
    assert n_head == 0, f"with the loop closed the head cuts off {n_head}, expected 0"
    print(
        row(
            "loop closed: SP ids of feeder head (0, component search)",
            timed(lambda: sp_ids(head_now), runs),
        )
    )
    print(
        row(
            f"loop closed: SP ids of a lateral fuse ({n_fuse:,}, range query)",
            timed(lambda: sp_ids(fuse), runs),
        )
    )
    device_set_open(device=tie, is_open=True)
    explain_head(head)


def explain_head(head: object) -> None:
    """Print the plan of the head query once (index use is the point of the materialised tree)."""
    from django.db import connection

    from grids import selectors

    qs = selectors.device_downstream_service_points(device=head).values_list("pk", flat=True)
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}", params)
        plan = [line for (line,) in cursor.fetchall()]
    print("plan of the feeder-head query:")
    for line in plan:
        print("   ", line)


def bench_simbench(runs: int) -> None:
    import io

    from django.core.management import call_command

    from grids import selectors
    from grids.models import Device, Node, ServicePoint

    if not SIMBENCH.is_dir():
        print("SimBench: ../shared/data not present, skipped")
        return
    out = io.StringIO()
    started = time.perf_counter()
    call_command(
        "import_network",
        "simbench",
        str(SIMBENCH),
        "--prefix",
        SB_PREFIX,
        "--district",
        "福田区",
        stdout=out,
    )
    import_s = time.perf_counter() - started
    analyze()
    heads = list(
        Device.objects.filter(
            feeder__substation__code=SB_PREFIX, node_a__is_source=True, kind="breaker"
        )
    )
    n_points = ServicePoint.objects.filter(account_no__startswith=f"{SB_PREFIX}-").count()
    n_nodes = Node.objects.filter(code__startswith=f"{SB_PREFIX}:").count()
    print(
        f"\nSimBench 1-MVLV-urban: import_network {import_s:.1f} s "
        f"({n_nodes} nodes after contraction, {n_points:,} service points, {len(heads)} heads)"
    )
    sizes = {h.pk: selectors.device_downstream_service_points(device=h).count() for h in heads}
    biggest = max(heads, key=lambda h: sizes[h.pk])
    cycle = iter(heads * (runs + 10))
    print(header())
    print(
        row(
            f"downstream SP ids, the {len(heads)} substation breakers in turn",
            timed(
                lambda: list(
                    selectors.device_downstream_service_points(device=next(cycle)).values_list(
                        "pk", flat=True
                    )
                ),
                runs,
            ),
        )
    )
    print(
        row(
            f"downstream SP ids, largest feeder ({sizes[biggest.pk]:,})",
            timed(
                lambda: list(
                    selectors.device_downstream_service_points(device=biggest).values_list(
                        "pk", flat=True
                    )
                ),
                runs,
            ),
        )
    )
    bench_simbench_ring_closed(runs)
    pts = list(
        ServicePoint.objects.filter(account_no__startswith=f"{SB_PREFIX}-").order_by("?")[
            : runs + 3
        ]
    )
    it = iter(pts)
    print(
        row(
            "service_point_upstream_path (random SP)",
            timed(lambda: selectors.service_point_upstream_path(service_point=next(it)), runs),
        )
    )


def bench_simbench_ring_closed(runs: int) -> None:
    """Close the ring tie of ``MV3.101 Switch 12`` in parallel and time its downstream query
    (a search of the component: 0 customers lose supply) beside a radial transformer's."""
    from grids import selectors
    from grids.models import Device
    from grids.services import device_set_open

    head = Device.objects.filter(code=f"{SB_PREFIX}:MV3.101 Switch 12").first()
    if head is None:
        return
    ties = Device.objects.filter(feeder__substation__code=SB_PREFIX, is_open=True).order_by("code")
    closed = None
    for tie in ties:
        device_set_open(device=tie, is_open=False)
        head.refresh_from_db()
        if head.on_closed_loop:
            closed = tie
            break
        device_set_open(device=tie, is_open=True)
    if closed is None:
        print("SimBench: no tie closes the ring of MV3.101 Switch 12")
        return
    radial = Device.objects.filter(
        feeder__substation__code=SB_PREFIX, kind="transformer", on_closed_loop=False
    ).first()
    assert radial is not None

    def ids(device: Device) -> list[int]:
        return list(
            selectors.device_downstream_service_points(device=device).values_list("pk", flat=True)
        )

    n_head = len(ids(head))
    print(f"SimBench ring closed by {closed.code.split(':', 1)[1]}")
    print(
        row(
            f"ring closed: Switch 12 ({n_head}, component search)",
            timed(lambda: ids(head), runs),
        )
    )
    print(row("ring closed: a radial transformer (range query)", timed(lambda: ids(radial), runs)))
    device_set_open(device=closed, is_open=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--service-points", type=int, default=10_000)
    parser.add_argument("--transformers", type=int, default=300)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--no-simbench", action="store_true")
    parser.add_argument("--keep", action="store_true", help="leave the benchmark rows in place")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith(("postgres://", "postgresql://")):
        print("this benchmark needs PostgreSQL (DATABASE_URL=postgres://...)", file=sys.stderr)
        return 2
    ensure_database(url)
    setup_django(url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    print(f"PostgreSQL {version}, database {connection.settings_dict['NAME']}")
    for prefix in (PREFIX, SB_PREFIX):
        delete_prefix(prefix)
    try:
        bench_synthetic(args.service_points, args.transformers, args.runs)
        if not args.no_simbench:
            bench_simbench(args.runs)
    finally:
        if not args.keep:
            for prefix in (PREFIX, SB_PREFIX):
                delete_prefix(prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
