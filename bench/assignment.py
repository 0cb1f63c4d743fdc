"""Batch assignment vs greedy nearest-first vs the optimum, on random Shenzhen-sized cases.

No database. Orders and crews are scattered uniformly inside the bounding boxes of Shenzhen's
districts (a district picked at random for each point), all urban, every crew on duty with
capacity 1 (``--capacity``) and no open order, no skills, no SLA deadlines, and a policy
with only the travel term (no workload, territory or lateness), so the cost is travel time
and the optimum is one ``linear_sum_assignment`` over the full travel matrix (each crew's
column repeated once per place).

Rows: greedy nearest-first (orders in arrival order, each takes its nearest free crew); a
**burst** replayed as the storm batch sees it: the orders arrive in order, ``--per-run`` (50) of
them between two batch runs, and each run calls ``plan_dispatch`` on what waits then,

* without re-planning (what storm mode did before: each run's orders are matched once, in
  arrival-order chunks, and keep their crew);
* with the rolling horizon: every offer no crew has accepted yet is planned again with the
  new arrivals, moving only for more than ``replan_min_gain_min`` (rows for several values);
  offers changed per order are reported;
* the same with crews accepting their offers ``--accept-after`` runs after they were made
  (accepted offers are no longer re-planned);

the module's batch as one full batch, and the optimum over the same orders and crews. Timings:
building the module's batch matrix vs a bare numpy travel matrix, and ``solve_batch`` (solver
plus the explained assignments it returns) vs a bare ``linear_sum_assignment`` on the same
matrix. The target: the rolling horizon within 5 % of the optimum on the 1,000-order burst.

    .venv/bin/python bench/assignment.py [--sizes 200 1000] [--seed 20250601]
        [--per-run 50] [--thresholds 0 2 5 10] [--accept-after 4] [--capacity 1 3]

``--capacity 3`` gives every crew three places (the storm's usual case): the batch then
solves its sparse matching (``batch_neighbours``), which capacity 1 leaves to the dense one.
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


def make_case(
    n: int, seed: int, capacity: int = 1
) -> tuple[list[d.OrderRequest], list[d.CrewState]]:
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
            capacity=capacity,
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


def _policy(threshold: float) -> d.DispatchPolicy:
    return d.DispatchPolicy(
        workload_min_per_order=0.0,
        territory_bonus_min=0.0,
        sla_late_weight=0.0,
        storm_threshold=0,
        replan_min_gain_min=threshold,
    )


def simulate_burst(
    orders: list[d.OrderRequest],
    crews: list[d.CrewState],
    travel: np.ndarray,
    *,
    per_run: int,
    replan: bool,
    threshold: float = 5.0,
    accept_after: int | None = None,
) -> tuple[float, float, int, int, float]:
    """Replay the burst through successive batch runs (module docstring). Returns (total
    travel min, total km, orders assigned, offers changed, wall ms of all the runs)."""
    policy = _policy(threshold)
    order_at = {o.id: i for i, o in enumerate(orders)}
    crew_at = {c.id: j for j, c in enumerate(crews)}
    by_id = {o.id: o for o in orders}
    state: tuple[d.CrewState, ...] = tuple(crews)
    offers: dict[int, tuple[int, int]] = {}  # order id -> (crew id, run it was offered in)
    accepted: dict[int, int] = {}
    waiting: list[d.OrderRequest] = []
    changed = 0
    started = time.perf_counter()
    for run, start in enumerate(range(0, len(orders), per_run)):
        if accept_after is not None:
            for order_id, (crew_id, at) in list(offers.items()):
                if run - at >= accept_after:
                    accepted[order_id] = crew_id
                    del offers[order_id]
        waiting += orders[start : start + per_run]
        standing = [d.Offer(by_id[o], c) for o, (c, _) in offers.items()] if replan else []
        result = d.plan_dispatch(waiting, state, now=NOW, policy=policy, offers=standing)
        state = result.crews
        for a in result.assignments:
            offers[a.order_id] = (a.crew_id, run)
        for a in result.replanned:
            offers[a.order_id] = (a.crew_id, run)  # a new offer: its crew's clock restarts
        changed += len(result.replanned)
        done = {a.order_id for a in result.assignments}
        waiting = [o for o in waiting if o.id not in done]
    wall = (time.perf_counter() - started) * 1000.0
    pairs = {**accepted, **{o: c for o, (c, _) in offers.items()}}
    i = np.array([order_at[o] for o in pairs], dtype=np.intp)
    j = np.array([crew_at[c] for c in pairs.values()], dtype=np.intp)
    minutes = float(travel[i, j].sum())
    km = minutes / 60.0 * TRAVEL_ONLY.speed_kmh[d.URBAN] / TRAVEL_ONLY.road_factor
    return minutes, km, len(pairs), changed, wall


def run(n: int, seed: int, args: argparse.Namespace, capacity: int = 1) -> None:
    orders, crews = make_case(n, seed, capacity)
    repeat = 3
    rows: list[tuple[str, float, float, int, float]] = []
    changes: dict[str, float] = {}
    travel, t_bare_build = timed(lambda: bare_travel_matrix(orders, crews), repeat)

    greedy, t = timed(lambda: d.assign_greedy(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat)
    rows.append(("greedy nearest-first", *totals(greedy), t))
    per_run = args.per_run
    minutes, km, count, _, t = simulate_burst(orders, crews, travel, per_run=per_run, replan=False)
    rows.append((f"burst, {per_run} per run, no re-planning (former storm)", minutes, km, count, t))
    for threshold in args.thresholds:
        name = f"burst, rolling horizon, threshold {threshold:g} min"
        minutes, km, count, moved, t = simulate_burst(
            orders, crews, travel, per_run=per_run, replan=True, threshold=threshold
        )
        rows.append((name, minutes, km, count, t))
        changes[name] = moved / n
    if args.accept_after:
        name = (
            f"burst, rolling horizon, threshold {args.thresholds[-1]:g} min, crews accept "
            f"after {args.accept_after} runs"
        )
        minutes, km, count, moved, t = simulate_burst(
            orders,
            crews,
            travel,
            per_run=per_run,
            replan=True,
            threshold=args.thresholds[-1],
            accept_after=args.accept_after,
        )
        rows.append((name, minutes, km, count, t))
        changes[name] = moved / n
    full, t = timed(lambda: d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat)
    rows.append(("all waiting orders in one matching", *totals(full), t))

    # With capacity k every crew is k columns (travel only: a crew's places cost the same).
    slots = np.repeat(travel, capacity, axis=1) if capacity > 1 else travel
    (r, c), t_opt = timed(lambda: linear_sum_assignment(slots), repeat)
    c = c // capacity
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
    print(f"\n### {n} orders x {n} crews (capacity {capacity}, seed {seed + n})\n")
    print(
        "| method | total travel (min) | total km | vs optimum | assigned "
        "| offers changed per order | wall time (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, minutes, kms, count, ms in rows:
        gap = round((minutes / optimum - 1.0) * 100.0, 2) + 0.0  # no "-0.00%"
        moved = f"{changes[name]:.3f}" if name in changes else ""
        print(
            f"| {name} | {minutes:,.1f} | {kms:,.1f} | {gap:+.2f}% | {count} | {moved} "
            f"| {ms:,.1f} |"
        )

    matrix, t_build = timed(
        lambda: d.batch_cost_matrix(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat
    )
    _, t_solve = timed(lambda: d.solve_batch(matrix), repeat)
    _, t_lsa = timed(lambda: linear_sum_assignment(matrix.cost), repeat)
    _, t_full = timed(lambda: d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY), repeat)
    print(f"\nfull-batch timings, {n} x {n} (best of {repeat}):\n")
    print("| step | ms |")
    print("|---|---:|")
    print(f"| module `batch_cost_matrix` (all terms, filters, slots) | {t_build:,.1f} |")
    print(f"| bare numpy travel matrix (haversine only) | {t_bare_build:,.1f} |")
    print(f"| module `solve_batch` (LSA + explained assignments) | {t_solve:,.1f} |")
    print(f"| bare `linear_sum_assignment` on the same matrix | {t_lsa:,.1f} |")
    print(
        "| bare `linear_sum_assignment` on the bare travel matrix, a column per place "
        f"| {t_opt:,.1f} |"
    )
    print(
        "| module `assign_batch` (terms, sparse matching or dense fallback, explained) "
        f"| {t_full:,.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--per-run", type=int, default=50, help="arrivals between batch runs")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.0, 2.0, 5.0])
    parser.add_argument("--accept-after", type=int, default=4, help="0: nobody accepts")
    parser.add_argument(
        "--capacity", type=int, nargs="+", default=[1], help="crew capacities to run (1 3)"
    )
    args = parser.parse_args()
    print(f"numpy {np.__version__}, scipy {__import__('scipy').__version__}")
    for capacity in args.capacity:
        for n in args.sizes:
            run(n, args.seed, args, capacity)


if __name__ == "__main__":
    main()
