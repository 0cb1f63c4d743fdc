"""Assignment of many orders at once: greedy (one by one) and the minimum-cost batch.

**Sparse first.** An order is almost never served by a crew far down its list, so the batch
first links each order only to the capacity slots of its ``batch_neighbours`` (16) cheapest
crews, plus the crew holding its standing offer, and solves that sparse graph with
``scipy.sparse.csgraph.min_weight_full_bipartite_matching`` (every order served, least
cost). When that graph cannot serve every order (crews are scarce, or an order's neighbours
are all needed elsewhere), the dense matrix below is solved instead.

**The dense matrix** is one ``scipy.optimize.linear_sum_assignment`` over orders x crew
capacity slots: a crew with spare capacity k appears as k columns, the s-th one carrying s
extra orders of workload (it is queued behind the first). Infeasible pairs get a cost so
large that the solver only uses them when no feasible pair is left, and they are then
dropped, so the solution is a maximum-cardinality feasible matching of least cost. Each
order's row is lowered by its SLA priority, which changes *which* orders are served when
crews are short, not what serving them costs.

**Offers in the batch (rolling horizon).** An order already offered to a crew that has not
accepted it can be matched again with the new arrivals (``offers``: order id → crew id; the
caller passes the crews with those offers' capacity released). Its row is held (lowered by
more than the spread of all costs, so the batch never drops a standing offer to serve a new
order) and its own crew's cells are lowered by ``replan_min_gain_min``: the solution moves an
offer only when that gains more than the threshold per moved offer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .costs import BoolArray, FloatArray, _Terms, _terms
from .model import (
    DEFAULT_POLICY,
    NO_CAPACITY,
    NO_ELIGIBLE_CREW,
    OUTCOMPETED,
    Assignment,
    Candidate,
    CrewState,
    DispatchPolicy,
    DispatchResult,
    OrderRequest,
    Unassigned,
)

_NO_OFFERS: Mapping[int, int] = MappingProxyType({})
# The sparse graph is tried only when crews have at least this many free places per order:
# when they are tight, the optimum uses crews far down the orders' lists, and the sparse
# solver is both slower and worse than the dense one (1,000 x 1,000 at capacity 1).
SPARSE_MIN_SLOTS_PER_ORDER = 2


def _with_taken(crews: Sequence[CrewState], taken: npt.NDArray[np.int64]) -> tuple[CrewState, ...]:
    return tuple(
        dataclasses.replace(c, open_orders=c.open_orders + int(k)) if k else c
        for c, k in zip(crews, taken, strict=True)
    )


def _alternatives(t: _Terms, i: int, k: int) -> tuple[Candidate, ...]:
    if k <= 0:
        return ()
    columns = np.flatnonzero(t.eligible[i])
    if len(columns) > 4 * k:
        # Only the k cheapest matter; partition first so 1,000 crews cost no full sort.
        part = np.argpartition(t.cost[i, columns], k)[:k]
        columns = columns[part]
    return tuple(t.candidate(i, int(j)) for j in t.ranked_columns(i, columns)[:k])


def _alternatives_of(t: _Terms, served: Sequence[int], k: int) -> dict[int, tuple[Candidate, ...]]:
    """``_alternatives`` for many rows at once (one partition of their cost rows)."""
    if k <= 0 or not len(served):
        return {}
    idx = np.asarray(served, dtype=np.intp)
    m = len(t.crews)
    cost = np.where(t.eligible[idx], t.cost[idx], np.inf)
    if k < m:
        near = np.argpartition(cost, k - 1, axis=1)[:, :k]
    else:
        near = np.broadcast_to(np.arange(m), (len(idx), m))
    finite = np.isfinite(np.take_along_axis(cost, near, axis=1))
    out: dict[int, tuple[Candidate, ...]] = {}
    for r, i in enumerate(idx.tolist()):
        columns = near[r][finite[r]].astype(np.intp)
        out[i] = tuple(t.candidate(i, int(j)) for j in t.ranked_columns(i, columns)[:k])
    return out


def assign_greedy(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
    mode: str = "single",
) -> DispatchResult:
    """Give each order, in the given sequence, its best crew with capacity left."""
    t = _terms(orders, crews, now=now, policy=policy)
    spare = np.array([c.spare for c in crews], dtype=np.int64)
    taken = np.zeros(len(crews), dtype=np.int64)
    ids = np.array([c.id for c in crews], dtype=np.int64)
    cost = t.cost
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []
    for i, order in enumerate(orders):
        free = np.flatnonzero(t.eligible[i] & (taken < spare))
        if not len(free):
            counts = t.filtered_counts(i)
            used_up = int((t.eligible[i] & (taken >= spare)).sum())
            if used_up:
                counts[NO_CAPACITY] = counts.get(NO_CAPACITY, 0) + used_up
            unassigned.append(Unassigned(order.id, NO_ELIGIBLE_CREW, counts))
            continue
        row = cost[i, free] + policy.workload_min_per_order * taken[free]
        j = int(free[np.lexsort((ids[free], t.travel_min[i, free], row))[0]])
        assignments.append(
            Assignment(
                order.id,
                crews[j].id,
                mode,
                t.candidate(i, j, extra_load=int(taken[j])),
                _alternatives(t, i, policy.alternatives_kept),
            )
        )
        taken[j] += 1
    return DispatchResult(tuple(assignments), tuple(unassigned), _with_taken(crews, taken))


@dataclass(frozen=True, slots=True)
class BatchMatrix:
    """The cost matrix of one batch: rows are the orders with at least one eligible crew,
    columns are crew capacity slots (``slot_crew[c]`` is the crew index, ``slot_load[c]`` the
    orders queued before it in this batch). ``cost`` is finite everywhere; infeasible cells
    hold ``big`` and ``feasible`` marks the others. ``offers`` are the standing offers in the
    batch (order id → crew id)."""

    terms: _Terms
    rows: npt.NDArray[np.intp]
    slot_crew: npt.NDArray[np.intp]
    slot_load: npt.NDArray[np.int64]
    cost: FloatArray
    feasible: BoolArray
    big: float
    offers: Mapping[int, int] = field(default_factory=lambda: _NO_OFFERS)


def _slots(
    t: _Terms, rows: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """The capacity slots of the crews some row can use: (crew index, load before it)."""
    crews = t.crews
    used = np.flatnonzero(t.eligible[rows].any(axis=0)) if len(rows) else np.array([], np.intp)
    # More slots than rows would never be filled: cap each crew at the batch size.
    k = np.minimum(np.array([crews[j].spare for j in used], dtype=np.int64), len(rows))
    slot_crew = np.repeat(used, k).astype(np.intp)
    slot_load = (np.arange(len(slot_crew)) - np.repeat(np.cumsum(k) - k, k)).astype(np.int64)
    return slot_crew, slot_load


def _stick_to_offers(
    t: _Terms,
    rows: npt.NDArray[np.intp],
    slot_crew: npt.NDArray[np.intp],
    cost: FloatArray,
    feasible: BoolArray,
    offers: Mapping[int, int],
) -> None:
    """Hold the rows of standing offers and favour their own crews (module docstring)."""
    index = {c.id: j for j, c in enumerate(t.crews)}
    held = [
        (r, index.get(offers[t.orders[i].id], -1))
        for r, i in enumerate(rows.tolist())
        if t.orders[i].id in offers
    ]
    if not held or not feasible.any():
        return
    hold = float(cost[feasible].max() - cost[feasible].min()) + 1.0
    for r, j in held:
        cost[r] -= hold
        own = slot_crew == j
        cost[r, own] -= t.policy.replan_min_gain_min


def batch_cost_matrix(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
    offers: Mapping[int, int] = _NO_OFFERS,
) -> BatchMatrix:
    """Build the dense min-cost assignment matrix of one batch (module docstring)."""
    return _dense_matrix(_terms(orders, crews, now=now, policy=policy), offers)


def _dense_matrix(t: _Terms, offers: Mapping[int, int]) -> BatchMatrix:
    policy = t.policy
    rows = np.flatnonzero(t.eligible.any(axis=1))
    slot_crew, slot_load = _slots(t, rows)
    feasible = t.eligible[np.ix_(rows, slot_crew)]
    cost = (
        t.cost[np.ix_(rows, slot_crew)]
        + policy.workload_min_per_order * slot_load[None, :]
        - t.priority[rows][:, None]
    )
    if offers:
        _stick_to_offers(t, rows, slot_crew, cost, feasible, offers)
    big = 0.0
    if feasible.any():
        lo = float(cost[feasible].min())
        cost -= lo
        # With finite costs in [0, spread], any matching with one more feasible pair is cheaper
        # than one with fewer, whatever the costs: so feasible cardinality is maximised first.
        spread = float(cost[feasible].max())
        big = (len(rows) + 1) * (spread + 1.0)
        cost[~feasible] = big
    return BatchMatrix(t, rows, slot_crew, slot_load, cost, feasible, big, offers)


def solve_batch(matrix: BatchMatrix) -> DispatchResult:
    """Solve one batch on its dense matrix; infeasible pairs the solver had to use are
    dropped as unassigned.

    Standing offers that stay with their crew are counted (``kept``), those that move are
    returned as ``replanned``; an offer the batch could not place again is left out of the
    result (it stands). ``crews`` afterwards count every order matched.
    """
    pairs: list[tuple[int, int, int]] = []
    if matrix.cost.size:
        r, c = linear_sum_assignment(matrix.cost)
        ok = matrix.feasible[r, c]
        r, c = r[ok], c[ok]
        pairs = list(
            zip(
                matrix.rows[r].tolist(),
                matrix.slot_crew[c].tolist(),
                matrix.slot_load[c].tolist(),
                strict=True,
            )
        )
    return _result(matrix.terms, pairs, matrix.rows, matrix.offers)


def sparse_pairs(
    t: _Terms, offers: Mapping[int, int] = _NO_OFFERS, *, neighbours: int
) -> list[tuple[int, int, int]] | None:
    """The batch solved on a sparse graph: each order linked only to the capacity slots of
    its ``neighbours`` cheapest eligible crews (and of the crew holding its standing offer),
    solved with ``scipy.sparse.csgraph.min_weight_full_bipartite_matching``. Returns the
    matched (order index, crew index, load before the slot), or None when the sparse graph
    cannot serve every order that has an eligible crew (crews are scarce, or the neighbours
    are all taken): the caller then solves the dense matrix.

    When every order is served, the row holds and SLA priorities of the dense matrix change
    nothing (each row is matched once whatever its offset), so the costs here are the pair
    costs, the slot's queue and the re-planning bonus of the offer's own crew.
    """
    rows = np.flatnonzero(t.eligible.any(axis=1))
    n, m = len(rows), len(t.crews)
    if not n:
        return []
    spare = np.minimum(np.array([c.spare for c in t.crews], dtype=np.int64), n)
    spare[~t.eligible[rows].any(axis=0)] = 0
    if int(spare.sum()) < SPARSE_MIN_SLOTS_PER_ORDER * n:
        return None
    usable = t.eligible[rows] & (spare > 0)[None, :]
    cost = np.where(usable, t.cost[rows], np.inf)
    k = min(max(1, neighbours), m)
    if k < m:
        near = np.argpartition(cost, k - 1, axis=1)[:, :k]
    else:
        near = np.broadcast_to(np.arange(m), (n, m))
    edge_row = np.repeat(np.arange(n), near.shape[1])
    edge_crew = near.reshape(-1).astype(np.intp)
    own = np.full(n, -1, dtype=np.intp)
    if offers:
        index = {c.id: j for j, c in enumerate(t.crews)}
        for r, i in enumerate(rows.tolist()):
            held = offers.get(t.orders[i].id)
            if held is not None:
                own[r] = index.get(held, -1)
        extra = np.flatnonzero(own >= 0)
        edge_row = np.concatenate([edge_row, extra])
        edge_crew = np.concatenate([edge_crew, own[extra]])
    edge_cost = cost[edge_row, edge_crew]
    keep = np.isfinite(edge_cost)
    edge_row, edge_crew, edge_cost = edge_row[keep], edge_crew[keep], edge_cost[keep]
    # The offer's own crew may be among the neighbours already: one edge per pair.
    pair_key = edge_row.astype(np.int64) * m + edge_crew
    pair_key, first = np.unique(pair_key, return_index=True)
    edge_row, edge_crew, edge_cost = edge_row[first], edge_crew[first], edge_cost[first]
    edge_cost = edge_cost - t.policy.replan_min_gain_min * (own[edge_row] == edge_crew)
    # One edge per capacity slot of the crew, the s-th slot s orders further down its queue.
    per = spare[edge_crew]
    slot_start = np.cumsum(spare) - spare
    starts = np.cumsum(per) - per
    load = np.arange(int(per.sum()), dtype=np.int64) - np.repeat(starts, per)
    slot_row = np.repeat(edge_row, per)
    slot_crew = np.repeat(edge_crew, per)
    slot_cost = np.repeat(edge_cost, per) + t.policy.workload_min_per_order * load
    columns = slot_start[slot_crew] + load
    if len(np.unique(slot_row)) < n:
        return None
    # Weights must be non-zero (a stored zero is no edge): shift them all above zero.
    weights = slot_cost - slot_cost.min() + 1.0
    graph = csr_matrix((weights, (slot_row, columns)), shape=(n, int(spare.sum())))
    try:
        r, c = min_weight_full_bipartite_matching(graph)
    except ValueError:
        return None
    crew_of_column = np.repeat(np.arange(m), spare)
    load_of_column = np.arange(int(spare.sum()), dtype=np.int64) - np.repeat(slot_start, spare)
    return list(
        zip(
            rows[r].tolist(),
            crew_of_column[c].tolist(),
            load_of_column[c].tolist(),
            strict=True,
        )
    )


def _result(
    t: _Terms,
    pairs: Sequence[tuple[int, int, int]],
    rows: npt.NDArray[np.intp],
    offers: Mapping[int, int],
) -> DispatchResult:
    """The batch's result from its matched (order index, crew index, load before) pairs."""
    orders, crews = t.orders, t.crews
    taken = np.zeros(len(crews), dtype=np.int64)
    assignments: list[Assignment] = []
    replanned: list[Assignment] = []
    served: set[int] = set()
    kept = 0
    moved = [i for i, j, _load in pairs if offers.get(orders[i].id) != crews[j].id]
    alternatives = _alternatives_of(t, moved, t.policy.alternatives_kept)
    for i, j, load in pairs:
        served.add(i)
        taken[j] += 1
        offered = offers.get(orders[i].id)
        if offered == crews[j].id:
            kept += 1
            continue
        assignment = Assignment(
            orders[i].id,
            crews[j].id,
            "batch" if offered is None else "replan",
            t.candidate(i, j, extra_load=load),
            alternatives.get(i, ()),
        )
        (assignments if offered is None else replanned).append(assignment)
    index = {crew.id: j for j, crew in enumerate(crews)}
    for i, order in enumerate(orders):
        # An offer the batch could not place again stands, and still holds its crew's room.
        if i not in served and order.id in offers:
            kept += 1
            j = index.get(offers[order.id], -1)
            if j >= 0:
                taken[j] += 1
    solvable = set(rows.tolist())
    unassigned = [
        Unassigned(
            o.id,
            OUTCOMPETED if i in solvable else NO_ELIGIBLE_CREW,
            t.filtered_counts(i),
        )
        for i, o in enumerate(orders)
        if i not in served and o.id not in offers
    ]
    assignments.sort(key=lambda a: a.order_id)
    replanned.sort(key=lambda a: a.order_id)
    return DispatchResult(
        tuple(assignments),
        tuple(unassigned),
        _with_taken(crews, taken),
        replanned=tuple(replanned),
        kept=kept,
    )


def assign_batch(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
    offers: Mapping[int, int] = _NO_OFFERS,
) -> DispatchResult:
    """One minimum-cost assignment of ``orders`` to crews, respecting spare capacity: on the
    sparse graph of each order's ``batch_neighbours`` cheapest crews when that serves every
    order, else on the dense matrix (module docstring)."""
    t = _terms(orders, crews, now=now, policy=policy)
    if policy.batch_neighbours > 0:
        pairs = sparse_pairs(t, offers, neighbours=policy.batch_neighbours)
        if pairs is not None:
            return _result(t, pairs, np.flatnonzero(t.eligible.any(axis=1)), offers)
    return solve_batch(_dense_matrix(t, offers))
