"""Similar customers (同类客户): standardised feature vectors and a radius query (pure: numpy
and scipy, no ORM).

Every service point is a row of raw features (``FEATURES``). Each column is standardised
(z-score: minus the mean, divided by the standard deviation; a constant column is left at 0)
and multiplied by its weight, so one unit of distance means "one standard deviation of a
feature" whatever its scale. The customers within Euclidean ``radius`` of a complaining
customer's vector form the proactive-contact list, nearest first.

The radius query is ``scipy.spatial.cKDTree.query_ball_point``, which returns every point
within the radius (exact, not approximate), and the results are ordered by (distance, row).
So a larger radius never loses a customer that a smaller one found, even with a ``limit``:
everything ranked before a customer found at radius r lies within r as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

# The raw features, in column order.
FEATURES: tuple[str, ...] = (
    "interruptions_90d",  # sustained interruptions in the last 90 days
    "minutes_90d",  # minutes without supply in the last 90 days
    "frequent_level",  # 0 normal, 1 warning, 2 frequent (frequent-outage status)
    "repeat_reports_90d",  # trouble reports beyond the first in the last 90 days
    "sla_breaches_90d",  # repair orders on this customer that missed a deadline, 90 days
    "complaints_365d",  # complaints in the last year
    "area_class",  # customer class by area: 0 urban, 1 rural, 2 remote
    "important",  # 1 for an important customer
    "longest_minutes_90d",  # the longest single interruption, 90 days
)
DEFAULT_WEIGHTS: dict[str, float] = dict.fromkeys(FEATURES, 1.0)


@dataclass(frozen=True)
class Match:
    row: int
    distance: float


class SimilarityIndex:
    """A k-d tree over the standardised feature vectors of ``ids`` (one row each)."""

    def __init__(
        self,
        ids: Sequence[int] | NDArray[np.int64],
        raw: NDArray[np.float64],
        weights: dict[str, float] | None = None,
    ) -> None:
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(FEATURES) or raw.shape[0] != len(ids):
            raise ValueError("raw must have one row per id and one column per feature")
        self.ids = np.asarray(ids, dtype=np.int64)
        self.raw = raw
        w = weights or DEFAULT_WEIGHTS
        self.weights = np.array([w.get(name, 1.0) for name in FEATURES], dtype=np.float64)
        self.mean = raw.mean(axis=0) if len(raw) else np.zeros(len(FEATURES))
        std = raw.std(axis=0) if len(raw) else np.ones(len(FEATURES))
        self.std = np.where(std > 0, std, 1.0)
        self.vectors = self.standardise(raw)
        self.tree = cKDTree(self.vectors if len(raw) else np.zeros((0, len(FEATURES))))
        self._row = {int(i): n for n, i in enumerate(self.ids)}

    def standardise(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(((raw - self.mean) / self.std) * self.weights, dtype=np.float64)

    def row_of(self, id_: int) -> int | None:
        return self._row.get(int(id_))

    def within(
        self,
        vector: NDArray[np.float64],
        radius: float,
        *,
        limit: int | None = None,
        exclude_rows: set[int] | None = None,
    ) -> list[Match]:
        """Rows within ``radius`` of the standardised ``vector``, nearest first (ties by row),
        without ``exclude_rows``, at most ``limit``."""
        if radius < 0:
            raise ValueError("radius must be non-negative")
        exclude_rows = exclude_rows or set()
        reach = radius
        if limit is not None:
            reach = min(radius, self._reach(vector, radius, limit, exclude_rows))
        rows = self.tree.query_ball_point(vector, r=reach)
        if not rows:
            return []
        idx = np.asarray(rows, dtype=np.int64)
        if exclude_rows:
            idx = idx[~np.isin(idx, np.fromiter(exclude_rows, dtype=np.int64))]
        dist = np.linalg.norm(self.vectors[idx] - vector, axis=1)
        # The tree's own rounding may admit a point a hair outside; the answer promises
        # every distance within the radius.
        keep = dist <= radius
        idx, dist = idx[keep], dist[keep]
        order = np.lexsort((idx, dist))
        if limit is not None:
            order = order[:limit]
        return [Match(int(idx[k]), float(dist[k])) for k in order]

    def _reach(
        self, vector: NDArray[np.float64], radius: float, limit: int, exclude: set[int]
    ) -> float:
        """A radius that surely holds the ``limit`` nearest admissible points (those not
        excluded) within ``radius``: the distance of the ``limit``-th of them, found by a
        k-nearest query (growing k past excluded points). The ball query that follows at this
        reach then sees every point tied with the last one, so the answer is exactly the
        ``limit`` nearest by (distance, row), as the full ball query would give, at a
        fraction of its cost when the radius holds many points."""
        n = len(self.ids)
        k = min(n, 2 * limit + 2)
        while k > 0:
            dist, idx = self.tree.query(vector, k=k, distance_upper_bound=radius)
            dist, idx = np.atleast_1d(dist), np.atleast_1d(idx)
            found = np.isfinite(dist)
            admissible = found & ~np.isin(idx, np.fromiter(exclude, dtype=np.int64))
            if admissible.sum() >= limit:
                last = float(dist[admissible][limit - 1])
                # A hair more, so that rounding cannot drop a point tied with the last one.
                return last * (1 + 1e-9) + 1e-12
            if not found.all() or k >= n:
                return radius  # fewer than ``limit`` within the radius: all of them
            k = min(n, k * 4)
        return radius

    def features_of(self, row: int) -> dict[str, float]:
        return {name: float(v) for name, v in zip(FEATURES, self.raw[row], strict=True)}
