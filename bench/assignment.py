"""Batch assignment vs greedy nearest-first vs the optimum, on random Shenzhen-sized cases.

No database. Orders and crews are scattered uniformly inside the bounding boxes of Shenzhen's
districts (a district picked at random for each point), all urban, every crew on duty with
capacity 1 and no open order, no skills, no SLA deadlines, and a policy with only the travel
term (no workload, territory or lateness), so the cost is travel time and the optimum is one
``linear_sum_assignment`` over the full travel matrix.

Rows: greedy nearest-first (orders in arrival order, each takes its nearest free crew), the
module's storm mode (``plan_dispatch`` in batches of 50 and 100 orders, arrival order, losers
carried over), the module's batch as one full batch, and the optimum. Timings: building the
module's batch matrix vs a bare numpy travel matrix, and ``solve_batch`` (solver plus the
explained assignments it returns) vs a bare ``linear_sum_assignment`` on the same matrix.

    .venv/bin/python bench/assignment.py [--sizes 200 1000] [--seed 20250601]
"""

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grids.geodata import DISTRICTS  # noqa: E402
from workorders import dispatching as d  # noqa: E402

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
TRAVEL_ONLY = d.DispatchPolicy(
    workload_min_per_order=0.0, territory_bonus_min=0.0, sla_late_weight=0.0
)


def _points(rng: np.random.Generator, n: int) -> np.ndarray:
    boxes = np.array([info.bbox for info in DISTRICTS])  # (min_lng, min_lat, max_lng, max_lat)
    pick = boxes[rng.integers(0, len(boxes), n)]
    lng = rng.uniform(pick[:, 0], pick[:, 2])
    lat = rng.uniform(pick[:, 1], pick[:, 3])
    return np.column_stack([lat, lng])


def make_case(n: int, seed: int) -> tuple[list[d.OrderRequest], list[d.CrewState]]:
    rng = np.random.default_rng(seed + n)
    o_pts, c_pts = _points(rng, n), _points(rng, n)
    orders = [
        d.OrderRequest(
            id=i + 1,
            lat=float(lat),
            lng=float(lng),
            grid_id=None,
            area_class=d.URBAN,
            skill_needed=None,
            urgent=False,
            sla_deadline_at=None,
            created_at=NOW - timedelta(seconds=n - i),
        )
        for i, (lat, lng) in enumerate(o_pts)
    ]
    crews = [
        d.CrewState(
            id=10_000 + j,
            lat=float(lat),
            lng=float(lng),
            grid_id=None,
            on_duty=True,
            skills=frozenset(),
            capacity=1,
            open_orders=0,
        )
        for j, (lat, lng) in enumerate(c_pts)
    ]
    return orders, crews


def bare_travel_matrix(orders: list[d.OrderRequest], crews: list[d.CrewState]) -> np.ndarray:
    o = np.array([(x.lat, x.lng) for x in orders])
    c = np.array([(x.lat, x.lng) for x in crews])
    km = d.haversine_km(o[:, :1], o[:, 1:], c[:, 0][None, :], c[:, 1][None, :])
    return km * TRAVEL_ONLY.road_factor / TRAVEL_ONLY.speed_kmh[d.URBAN] * 60.0


def timed(fn, repeat: int):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best * 1000.0


def totals(result: d.DispatchResult) -> tuple[float, float, int]:
    minutes = sum(a.candidate.travel_min for a in result.assignments)
    km = sum(a.candidate.distance_km for a in result.assignments)
    return minutes, km, len(result.assignments)


def run(n: int, seed: int) -> None:
    orders, crews = make_case(n, seed)
    repeat = 3
    rows: list[tuple[str, float, float, int, float]] = []

    greedy, t = timed(lambda: d.assign_greedy(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat)
    rows.append(("greedy nearest-first", *totals(greedy), t))
    for size in (50, 100):
        policy = d.DispatchPolicy(
            workload_min_per_order=0.0,
            territory_bonus_min=0.0,
            sla_late_weight=0.0,
            storm_threshold=0,
            batch_size=size,
        )
        plan, t = timed(lambda p=policy: d.plan_dispatch(orders, crews, now=NOW, policy=p), repeat)
        rows.append((f"storm mode, batches of {size} ({plan.batches})", *totals(plan), t))
    full, t = timed(lambda: d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat)
    rows.append(("module batch, one full batch", *totals(full), t))

    travel, t_bare_build = timed(lambda: bare_travel_matrix(orders, crews), repeat)
    (r, c), t_opt = timed(lambda: linear_sum_assignment(travel), repeat)
    km = d.haversine_km(
        [orders[i].lat for i in r],
        [orders[i].lng for i in r],
        [crews[j].lat for j in c],
        [crews[j].lng for j in c],
    )
    rows.append(
        (
            "optimum (bare LSA, full matrix)",
            float(travel[r, c].sum()),
            float(km.sum()),
            len(r),
            t_bare_build + t_opt,
        )
    )

    optimum = rows[-1][1]
    print(f"\n### {n} orders x {n} crews (capacity 1, seed {seed + n})\n")
    print("| method | total travel (min) | total km | vs optimum | assigned | wall time (ms) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, minutes, kms, count, ms in rows:
        gap = round((minutes / optimum - 1.0) * 100.0, 2) + 0.0  # no "-0.00%"
        print(f"| {name} | {minutes:,.1f} | {kms:,.1f} | {gap:+.2f}% | {count} | {ms:,.1f} |")

    matrix, t_build = timed(
        lambda: d.batch_cost_matrix(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat
    )
    _, t_solve = timed(lambda: d.solve_batch(matrix), repeat)
    _, t_lsa = timed(lambda: linear_sum_assignment(matrix.cost), repeat)
    print(f"\nfull-batch timings, {n} x {n} (best of {repeat}):\n")
    print("| step | ms |")
    print("|---|---:|")
    print(f"| module `batch_cost_matrix` (all terms, filters, slots) | {t_build:,.1f} |")
    print(f"| bare numpy travel matrix (haversine only) | {t_bare_build:,.1f} |")
    print(f"| module `solve_batch` (LSA + explained assignments) | {t_solve:,.1f} |")
    print(f"| bare `linear_sum_assignment` on the same matrix | {t_lsa:,.1f} |")
    print(f"| bare `linear_sum_assignment` on the bare travel matrix | {t_opt:,.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seed", type=int, default=20250601)
    args = parser.parse_args()
    print(f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    for n in args.sizes:
        run(n, args.seed)


if __name__ == "__main__":
    main()
