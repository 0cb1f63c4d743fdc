"""Similar customers (同类客户): standardised feature vectors and a radius query (pure: numpy
and scipy, no ORM).

Every service point is a row of raw features (``FEATURES``). Each column is standardised
(z-score: minus the mean, divided by the standard deviation; a constant column is left at 0)
and multiplied by its weight, so one unit of distance means "one standard deviation of a
feature" whatever its scale. The customers within Euclidean ``radius`` of a complaining
customer's vector form the proactive-contact list, nearest first.

The k-d tree (``scipy.spatial.cKDTree``) holds each distinct vector once, with the rows that
share it (many customers do: no interruption, same class). The query is exact, not
approximate: every row within the radius, ordered by (distance, row); with a ``limit``, the
first ``limit`` of that order, found by a k-nearest query over the distinct vectors that
grows until it holds enough rows and passes every tie. So a larger radius never loses a
customer that a smaller one found, even with a ``limit``: everything ranked before a
customer found at radius r lies within r as well.
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
        # Many customers share a vector exactly (no interruption, same class): the tree holds
        # each distinct vector once, with its rows in ascending order, so a query never
        # walks thousands of identical points one by one.
        d = len(FEATURES)
        if len(raw):
            uniq, inverse = np.unique(self.vectors, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
        else:
            uniq, inverse = np.zeros((0, d)), np.zeros(0, dtype=np.int64)
        self.groups = uniq
        self.group_rows = np.argsort(inverse, kind="stable").astype(np.int64)
        bounds = np.searchsorted(inverse[self.group_rows], np.arange(len(uniq) + 1))
        self.group_start, self.group_end = bounds[:-1], bounds[1:]
        self.tree = cKDTree(uniq)
        self._row = {int(i): n for n, i in enumerate(self.ids)}

    def standardise(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(((raw - self.mean) / self.std) * self.weights, dtype=np.float64)

    def row_of(self, id_: int) -> int | None:
        return self._row.get(int(id_))

    def _rows(self, group: int, cap: int | None = None) -> NDArray[np.int64]:
        start, end = int(self.group_start[group]), int(self.group_end[group])
        if cap is not None:
            end = min(end, start + cap)
        return self.group_rows[start:end]

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
        excluded = np.fromiter(exclude_rows or (), dtype=np.int64)
        if limit is None:
            groups = np.asarray(self.tree.query_ball_point(vector, r=radius), dtype=np.int64)
            return self._ranked(vector, radius, groups, excluded, None)
        # The nearest groups first (k-nearest within the radius), growing k until they hold
        # ``limit`` admissible rows and the next group is farther than the last one taken.
        n_groups = len(self.groups)
        k = min(n_groups, 2 * limit + 2)
        bound = radius * (1 + 1e-9) + 1e-12
        while k > 0:
            dist, idx = self.tree.query(vector, k=k, distance_upper_bound=bound)
            dist, idx = np.atleast_1d(dist), np.atleast_1d(idx)
            found = np.isfinite(dist)
            taken: list[int] = []
            count = 0
            last = None
            complete = False
            for g, dg in zip(idx[found].tolist(), dist[found].tolist(), strict=True):
                if last is not None and count >= limit and dg > last:
                    complete = True
                    break
                rows = self._rows(g, cap=limit + len(excluded))
                count += int((~np.isin(rows, excluded)).sum()) if len(excluded) else len(rows)
                taken.append(g)
                last = dg
            if complete or not found.all() or k >= n_groups:
                return self._ranked(
                    vector, radius, np.asarray(taken, dtype=np.int64), excluded, limit
                )
            k = min(n_groups, k * 4)
        return []

    def _ranked(
        self,
        vector: NDArray[np.float64],
        radius: float,
        groups: NDArray[np.int64],
        excluded: NDArray[np.int64],
        limit: int | None,
    ) -> list[Match]:
        if len(groups) == 0:
            return []
        gdist = np.linalg.norm(self.groups[groups] - vector, axis=1)
        # The tree's own rounding may admit a point a hair outside; the answer promises
        # every distance within the radius.
        keep = gdist <= radius
        groups, gdist = groups[keep], gdist[keep]
        cap = None if limit is None else limit + len(excluded)
        parts = [self._rows(int(g), cap) for g in groups]
        if not parts:
            return []
        rows = np.concatenate(parts)
        dist = np.repeat(gdist, [len(p) for p in parts])
        if len(excluded):
            keep = ~np.isin(rows, excluded)
            rows, dist = rows[keep], dist[keep]
        order = np.lexsort((rows, dist))
        if limit is not None:
            order = order[:limit]
        return [Match(int(rows[k]), float(dist[k])) for k in order]

    def features_of(self, row: int) -> dict[str, float]:
        return {name: float(v) for name, v in zip(FEATURES, self.raw[row], strict=True)}
