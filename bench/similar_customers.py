"""Benchmark: similar customers (complaints.similarity) at 1,000,000 service points, and the
quality of the proactive-contact list on a synthetic city with planted dissatisfaction.

Part 1, scale: 1,000,000 synthetic customers' raw feature rows; time to standardise them and
build the k-d tree, and radius queries (limit 50, and unlimited) for random complaining
customers: p50 / p95 / max. Target: a query well under one second.

Part 2, quality. How dissatisfaction is planted (the ground truth the list must find):
- the city has feeders of three qualities (70 % good, 22 % fair, 8 % poor); a customer's
  interruptions in 90 days are Poisson with a rate by feeder quality (0.3 / 1.5 / 4),
  each lasting an exponential time (mean 40 / 90 / 180 minutes); the longest is kept;
- some repair crews are slow: customers in 10 % of the grids have each interruption's repair
  miss its deadline with probability 0.6 (else 0.05) — the SLA breaches they experienced;
- a customer is *dissatisfied* with probability sigmoid(-5 + 0.6·interruptions +
  0.006·minutes + 1.1·breaches + 0.9·frequent + 0.4·important + 0.8·repeat reports): a
  noisy function of the experience, not a rule the features could copy exactly;
- 20 % of the dissatisfied complain (the complainants); the rest are "silent dissatisfied",
  the customers the proactive list should reach before they complain.
For every complainant (a sample) the list is the non-complainants within the radius; over
the union of lists: precision = share who are silently dissatisfied, recall = share of all
silently dissatisfied reached. A baseline of the same size drawn at random gives the base
rate (its precision is the share of dissatisfied in the city).

    .venv/bin/python bench/similar_customers.py                       # 1,000,000 + 200,000
    .venv/bin/python bench/similar_customers.py --points 100000 --city 50000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from complaints.similarity import FEATURES, SimilarityIndex  # noqa: E402


def frequent_level(year_count: np.ndarray) -> np.ndarray:
    """The fallback rule of complaints.frequent: > 5 this year frequent, 4–5 warning."""
    return np.where(year_count > 5, 2, np.where(year_count >= 4, 1, 0))


def synthetic_city(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Raw feature rows (FEATURES order) and the planted dissatisfaction (bool)."""
    per_feeder = 400
    feeders = n // per_feeder + 1
    quality = rng.choice(3, size=feeders, p=[0.70, 0.22, 0.08])
    feeder = np.repeat(np.arange(feeders), per_feeder)[:n]
    q = quality[feeder]
    rate = np.array([0.3, 1.5, 4.0])[q]
    mean_minutes = np.array([40.0, 90.0, 180.0])[q]
    interruptions = rng.poisson(rate)
    # Minutes: the sum of ``interruptions`` exponentials (a gamma), the longest ~ the largest.
    minutes = np.where(
        interruptions > 0, rng.gamma(np.maximum(interruptions, 1), mean_minutes), 0.0
    )
    longest = np.where(
        interruptions > 0, minutes * rng.uniform(0.4, 1.0, n) ** (interruptions > 1), 0.0
    )
    year = interruptions * 4 + rng.poisson(rate, n)  # ~ the year's count
    grids = n // 2000 + 1
    slow = rng.random(grids) < 0.10
    grid = rng.integers(0, grids, n)
    p_breach = np.where(slow[grid], 0.6, 0.05)
    breaches = rng.binomial(interruptions, p_breach)
    reports = rng.binomial(interruptions, 0.5)
    repeat_reports = np.maximum(reports - 1, 0)
    area = rng.choice(3, size=n, p=[0.75, 0.2, 0.05])
    important = rng.random(n) < 0.02
    freq = frequent_level(year)
    logit = (
        -5
        + 0.6 * interruptions
        + 0.006 * minutes
        + 1.1 * breaches
        + 0.9 * freq
        + 0.4 * important
        + 0.8 * repeat_reports
    )
    dissatisfied = rng.random(n) < 1 / (1 + np.exp(-logit))
    raw = np.column_stack(
        [
            interruptions,
            minutes,
            freq,
            repeat_reports,
            breaches,
            np.zeros(n),  # complaints: filled in by the caller
            area,
            important,
            longest,
        ]
    ).astype(np.float64)
    assert raw.shape[1] == len(FEATURES)
    return raw, dissatisfied


def part_scale(points: int, queries: int, rng: np.random.Generator) -> None:
    raw, _ = synthetic_city(points, rng)
    t0 = time.perf_counter()
    index = SimilarityIndex(np.arange(points), raw)
    build = time.perf_counter() - t0
    print(f"\n== Scale: {points:,} service points, {len(FEATURES)} features ==")
    print(f"index build (standardise + cKDTree): {build:.2f} s")
    rows = rng.integers(0, points, queries)
    for radius, limit in ((0.5, 50), (1.0, 50), (1.0, None), (2.0, 50)):
        times, sizes = [], []
        for row in rows:
            t = time.perf_counter()
            found = index.within(index.vectors[row], radius, limit=limit, exclude_rows={int(row)})
            times.append(time.perf_counter() - t)
            sizes.append(len(found))
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        p50 = statistics.median(times)
        print(
            f"radius {radius:<4} limit {str(limit):<5}: p50 {p50 * 1000:7.1f} ms"
            f"  p95 {p95 * 1000:7.1f} ms  max {times[-1] * 1000:7.1f} ms"
            f"  results median {int(statistics.median(sizes)):,}"
        )


def part_quality(city: int, sample: int, rng: np.random.Generator) -> None:
    raw, dissatisfied = synthetic_city(city, rng)
    complained = dissatisfied & (rng.random(city) < 0.20)
    raw[:, FEATURES.index("complaints_365d")] = complained.astype(float)
    silent = dissatisfied & ~complained
    index = SimilarityIndex(np.arange(city), raw)
    complaint_col = FEATURES.index("complaints_365d")
    complainants = np.flatnonzero(complained)
    chosen = rng.choice(complainants, size=min(sample, len(complainants)), replace=False)
    exclude = set(complainants.tolist())
    print(f"\n== Quality: synthetic city of {city:,}, planted as described in the docstring ==")
    print(
        f"dissatisfied {dissatisfied.sum():,} ({dissatisfied.mean():.1%}), complainants "
        f"{complained.sum():,}, silent dissatisfied {silent.sum():,}; lists for {len(chosen)} "
        "complainants"
    )
    print(f"{'radius':>6} {'listed':>8} {'precision':>10} {'recall':>8} {'random prec.':>13}")
    for radius in (0.25, 0.5, 1.0, 1.5, 2.0):
        listed: set[int] = set()
        for row in chosen:
            vec_raw = raw[row].copy()
            vec_raw[complaint_col] = 0.0  # as the application queries
            vector = index.standardise(vec_raw[None, :])[0]
            for m in index.within(vector, radius, limit=50, exclude_rows=exclude):
                listed.add(m.row)
        hits = np.fromiter(listed, dtype=np.int64)
        precision = silent[hits].mean() if len(hits) else 0.0
        recall_chosen = silent[hits].sum() / max(silent.sum(), 1)
        pool = np.flatnonzero(~complained)
        baseline = rng.choice(pool, size=max(len(hits), 1), replace=False)
        print(
            f"{radius:>6} {len(hits):>8,} {precision:>10.1%} {recall_chosen:>8.1%}"
            f" {silent[baseline].mean():>13.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--city", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    part_scale(args.points, args.queries, rng)
    part_quality(args.city, args.sample, rng)


if __name__ == "__main__":
    main()
