"""The dispatch decision: which crew takes which work order. Pure Python + numpy/scipy, no ORM.

The services load crews and orders into the plain dataclasses below, call these functions and
record what they return; nothing here reads the clock or the database (``now`` is an argument).

**Hard filters.** A crew is a candidate for an order only if it is on duty, has a known
position, has the skill the order needs (if any) and has spare capacity (``capacity >
open_orders``). Re-dispatch also drops the crews that rejected the order or let the offer time
out. Every crew filtered out is reported with all the reasons that apply.

**Cost.** Candidates are ranked by a cost in *minute-equivalents*; lower is better, and the
components are returned so the console can explain "why this crew":

* ``travel``: travel time = great-circle distance x ``road_factor`` / speed of the area class
  (urban 25 km/h, rural 40, remote 50 by default). When the crew's own area class is known
  and differs from the order's, half the road is driven at each speed.
* ``workload``: ``workload_min_per_order`` (20) per open order, because a busy crew finishes
  its current job first; so a free crew wins unless the busy one is 20 minutes closer.
* ``sla``: ``sla_late_weight`` (2) per minute the crew would arrive after the order's SLA
  deadline, so crews that make the deadline are preferred over ones that would not.
* ``territory``: ``-territory_bonus_min`` (10) for a crew of the order's own grid (own grid
  first: a crew from another grid must be more than 10 minutes closer to win).

**Storm mode.** When more orders wait than ``storm_threshold`` (30), urgent orders are still
assigned at once, one by one (greedy best), and the others are matched in short batches of
``batch_size`` (50) by minimum-cost assignment (``scipy.optimize.linear_sum_assignment``). A
crew with spare capacity k appears as k columns, the s-th one carrying s extra orders of
workload (it is queued behind the first). Infeasible pairs get a cost so large that the solver
only uses them when no feasible pair is left, and are then dropped, so the solution is a
maximum-cardinality feasible matching of least cost. When crews are short, orders with little
SLA slack win: each order's row is lowered by ``sla_priority_weight`` per minute its deadline is
nearer than ``sla_priority_horizon_min`` (120), which changes *which* orders are served but not
the cost of serving them; batches are also formed tightest-deadline first. Orders that lose
are carried into the next batch and, after the last, returned as unassigned.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EARTH_RADIUS_KM = 6371.0088
URBAN, RURAL, REMOTE = "urban", "rural", "remote"  # the values of grids.models.AreaClass


def gettext_noop(message: str) -> str:
    """Mark a label for ``makemessages``; the Django layer translates it when it renders."""
    return message


# Reasons a crew is filtered out.
OFF_DUTY = "off_duty"
NO_POSITION = "no_position"
MISSING_SKILL = "missing_skill"
NO_CAPACITY = "no_capacity"
REJECTED = "rejected"
TIMED_OUT = "timed_out"
_FILTER_ORDER = (OFF_DUTY, NO_POSITION, MISSING_SKILL, NO_CAPACITY, REJECTED, TIMED_OUT)
# Reasons an order is left unassigned.
NO_ELIGIBLE_CREW = "no_eligible_crew"
OUTCOMPETED = "outcompeted"
# Pre-emption decisions.
PREEMPT_NOT_URGENT = "requester_not_urgent"
PREEMPT_VICTIM_URGENT = "current_order_urgent"
PREEMPT_STAGE = "current_stage_not_preemptible"
PREEMPT_VICTIM_SLA = "current_order_sla_at_risk"
PREEMPT_CREW_INELIGIBLE = "crew_ineligible"
PREEMPT_FREE_CREW = "free_crew_close_enough"
PREEMPT_ALLOWED = "urgent_gain"

REASON_LABELS: Mapping[str, str] = MappingProxyType(
    {
        OFF_DUTY: gettext_noop("班组不在班"),
        NO_POSITION: gettext_noop("班组位置未知"),
        MISSING_SKILL: gettext_noop("班组缺少所需技能"),
        NO_CAPACITY: gettext_noop("班组在手工单已满"),
        REJECTED: gettext_noop("班组已拒单"),
        TIMED_OUT: gettext_noop("班组接单超时"),
        NO_ELIGIBLE_CREW: gettext_noop("没有符合条件的班组"),
        OUTCOMPETED: gettext_noop("本批次班组已派给更紧急或更近的工单"),
        PREEMPT_NOT_URGENT: gettext_noop("只有紧急工单可以抽调班组"),
        PREEMPT_VICTIM_URGENT: gettext_noop("班组正在处理紧急工单"),
        PREEMPT_STAGE: gettext_noop("班组已到现场，不可抽调"),
        PREEMPT_VICTIM_SLA: gettext_noop("原工单时限将到，不可抽调"),
        PREEMPT_CREW_INELIGIBLE: gettext_noop("班组不符合紧急工单的条件"),
        PREEMPT_FREE_CREW: gettext_noop("已有空闲班组可及时到达"),
        PREEMPT_ALLOWED: gettext_noop("抽调可明显缩短紧急工单到达时间"),
        "travel": gettext_noop("路程时间"),
        "workload": gettext_noop("在手工单"),
        "sla": gettext_noop("超时风险"),
        "territory": gettext_noop("本网格优先"),
    }
)


@dataclass(frozen=True, slots=True)
class CrewState:
    """A crew as the dispatcher sees it now. ``lat``/``lng`` are None when never located."""

    id: int
    lat: float | None
    lng: float | None
    grid_id: int | None
    on_duty: bool
    skills: frozenset[str]
    capacity: int
    open_orders: int
    area_class: str | None = None

    @property
    def spare(self) -> int:
        return max(0, self.capacity - self.open_orders)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A work order waiting for a crew."""

    id: int
    lat: float
    lng: float
    grid_id: int | None
    area_class: str
    skill_needed: str | None
    urgent: bool
    sla_deadline_at: datetime | None
    created_at: datetime


def _by_area(urban: float, rural: float, remote: float) -> Mapping[str, float]:
    return MappingProxyType({URBAN: urban, RURAL: rural, REMOTE: remote})


@dataclass(frozen=True)
class DispatchPolicy:
    """Tunable weights and thresholds; the defaults are the documented ones (module docstring).

    Costs are in minute-equivalents: a weight of 20 means "as bad as 20 more minutes of travel".
    """

    # Roads are longer than the great circle; 1.3 is a usual detour factor for a city grid.
    road_factor: float = 1.3
    speed_kmh: Mapping[str, float] = field(default_factory=lambda: _by_area(25.0, 40.0, 50.0))
    travel_weight: float = 1.0
    workload_min_per_order: float = 20.0
    territory_bonus_min: float = 10.0
    sla_late_weight: float = 2.0
    sla_priority_horizon_min: float = 120.0
    sla_priority_weight: float = 1.0
    # Storm mode: batch matching once more than this many orders wait.
    storm_threshold: int = 30
    batch_size: int = 50
    # How many runner-up candidates an assignment keeps for the record.
    alternatives_kept: int = 3
    # Grab pool: who is told about a published order, and the bonus for claiming a stale one.
    grab_radius_km: Mapping[str, float] = field(default_factory=lambda: _by_area(5.0, 10.0, 20.0))
    grab_bonus_step_min: float = 5.0
    grab_bonus_points_per_step: int = 1
    grab_bonus_max_points: int = 20
    # Pre-emption: an urgent order may take a crew from a non-urgent one only before it is on
    # site, only if that order keeps enough SLA slack, and only for a real gain in arrival time.
    preemptible_stages: frozenset[str] = frozenset({"dispatched", "accepted", "en_route"})
    preempt_min_gain_min: float = 15.0
    preempt_victim_min_slack_min: float = 30.0

    def __post_init__(self) -> None:
        for area in (URBAN, RURAL, REMOTE):
            if self.speed_kmh.get(area, 0.0) <= 0:
                raise ValueError(f"speed for {area!r} must be positive")
        if self.road_factor <= 0 or self.batch_size < 1:
            raise ValueError("road_factor and batch_size must be positive")


DEFAULT_POLICY = DispatchPolicy()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A crew that passed the hard filters, with its cost (lower is better) and components."""

    crew_id: int
    cost: float
    distance_km: float
    travel_min: float
    components: Mapping[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "crew_id": self.crew_id,
            "cost": round(self.cost, 2),
            "distance_km": round(self.distance_km, 3),
            "travel_min": round(self.travel_min, 2),
            "components": {k: round(v, 2) for k, v in self.components.items()},
        }


@dataclass(frozen=True, slots=True)
class FilteredCrew:
    """A crew the hard filters dropped, with every reason that applied."""

    crew_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    """The candidates for one order, best first, and the crews filtered out."""

    order_id: int
    candidates: tuple[Candidate, ...]
    filtered: tuple[FilteredCrew, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "candidates": [c.as_dict() for c in self.candidates],
            "filtered": [{"crew_id": f.crew_id, "reasons": list(f.reasons)} for f in self.filtered],
        }


@dataclass(frozen=True, slots=True)
class Assignment:
    """An order given to a crew. ``mode`` is "urgent", "single" or "batch"."""

    order_id: int
    crew_id: int
    mode: str
    candidate: Candidate
    # The order's own best candidates (the chosen one included), so a batch can explain why it
    # sent a farther crew: the nearer one went to another order.
    alternatives: tuple[Candidate, ...] = ()


@dataclass(frozen=True, slots=True)
class Unassigned:
    """An order left without a crew; ``filtered_counts`` counts crews per filter reason."""

    order_id: int
    reason: str
    filtered_counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """What a batch or a whole plan decided. ``crews`` are the crew states afterwards."""

    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    crews: tuple[CrewState, ...]
    storm: bool = False
    batches: int = 0


# --- geometry -------------------------------------------------------------------------------


def haversine_km(
    lat1: npt.ArrayLike, lng1: npt.ArrayLike, lat2: npt.ArrayLike, lng2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km; numpy broadcasting (pass ``a[:, None]``, ``b[None, :]``)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lng1, lat2, lng2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def travel_minutes(
    distance_km: float, area_class: str, policy: DispatchPolicy = DEFAULT_POLICY
) -> float:
    """Driving minutes for a great-circle distance within one area class."""
    return distance_km * policy.road_factor / policy.speed_kmh[area_class] * 60.0


def _minutes(delta_seconds: float) -> float:
    return delta_seconds / 60.0


def _slack_min(order: OrderRequest, now: datetime) -> float:
    """Minutes left to the SLA deadline (negative when overdue, +inf without one)."""
    if order.sla_deadline_at is None:
        return math.inf
    return _minutes((order.sla_deadline_at - now).total_seconds())


def sla_priority(order: OrderRequest, *, now: datetime, policy: DispatchPolicy) -> float:
    """How much a batch favours serving this order, from its SLA slack (0 when slack is ample)."""
    slack = _slack_min(order, now)
    return policy.sla_priority_weight * max(0.0, policy.sla_priority_horizon_min - slack)


# --- the pair terms, vectorised -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Terms:
    """Every cost component and filter for orders x crews, as (n, m) or (m,) arrays."""

    orders: Sequence[OrderRequest]
    crews: Sequence[CrewState]
    distance_km: FloatArray
    travel_min: FloatArray
    travel: FloatArray
    workload: FloatArray  # (m,)
    sla: FloatArray
    territory: FloatArray
    static_filters: tuple[tuple[str, BoolArray], ...]  # (reason, (m,) mask of crews it drops)
    skill_ok: BoolArray
    eligible: BoolArray
    priority: FloatArray  # (n,)
    policy: DispatchPolicy
    cost: FloatArray = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        # Computed once: alternatives and rankings index into it for every row.
        cost = self.travel + self.workload[None, :] + self.sla + self.territory
        object.__setattr__(self, "cost", cost)

    def reasons(self, i: int, j: int) -> tuple[str, ...]:
        out = {reason for reason, mask in self.static_filters if mask[j]}
        if not self.skill_ok[i, j]:
            out.add(MISSING_SKILL)
        return tuple(r for r in _FILTER_ORDER if r in out)

    def filtered_counts(self, i: int) -> dict[str, int]:
        counts = {reason: int(mask.sum()) for reason, mask in self.static_filters}
        counts[MISSING_SKILL] = int((~self.skill_ok[i]).sum())
        return {k: v for k, v in counts.items() if v}

    def candidate(self, i: int, j: int, extra_load: int = 0) -> Candidate:
        workload = float(self.workload[j]) + self.policy.workload_min_per_order * extra_load
        components = {
            "travel": float(self.travel[i, j]),
            "workload": workload,
            "sla": float(self.sla[i, j]),
            "territory": float(self.territory[i, j]),
        }
        return Candidate(
            crew_id=self.crews[j].id,
            cost=sum(components.values()),
            distance_km=float(self.distance_km[i, j]),
            travel_min=float(self.travel_min[i, j]),
            components=components,
        )

    def ranked_columns(self, i: int, columns: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """``columns`` sorted by cost, then travel, then crew id (a deterministic order)."""
        ids = np.array([self.crews[j].id for j in columns], dtype=np.int64)
        order = np.lexsort((ids, self.travel_min[i, columns], self.cost[i, columns]))
        return columns[order]


def _terms(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy,
) -> _Terms:
    n, m = len(orders), len(crews)
    o_lat = np.array([o.lat for o in orders], dtype=np.float64)
    o_lng = np.array([o.lng for o in orders], dtype=np.float64)
    has_pos = np.array([c.lat is not None and c.lng is not None for c in crews], dtype=bool)
    # Unknown positions are filled with 0 only to keep the arithmetic finite; they are filtered.
    c_lat = np.array([c.lat if c.lat is not None else 0.0 for c in crews], dtype=np.float64)
    c_lng = np.array([c.lng if c.lng is not None else 0.0 for c in crews], dtype=np.float64)
    distance = haversine_km(o_lat[:, None], o_lng[:, None], c_lat[None, :], c_lng[None, :])
    distance = distance.reshape(n, m)

    inv_o = np.array([1.0 / policy.speed_kmh[o.area_class] for o in orders])
    inv_c = np.array(
        [1.0 / policy.speed_kmh[c.area_class] if c.area_class else np.nan for c in crews]
    )
    inv_c2 = np.where(np.isnan(inv_c)[None, :], inv_o[:, None], inv_c[None, :])
    travel_min = distance * policy.road_factor * 0.5 * (inv_o[:, None] + inv_c2) * 60.0

    slack = np.array([_slack_min(o, now) for o in orders], dtype=np.float64)
    # With no deadline slack is +inf, so travel - slack is -inf and the lateness is 0.
    late = np.maximum(0.0, travel_min - slack[:, None])

    o_grid = np.array([o.grid_id if o.grid_id is not None else -1 for o in orders], np.int64)
    c_grid = np.array([c.grid_id if c.grid_id is not None else -1 for c in crews], np.int64)
    o_has = np.array([o.grid_id is not None for o in orders], dtype=bool)
    c_has = np.array([c.grid_id is not None for c in crews], dtype=bool)
    own_grid = (o_grid[:, None] == c_grid[None, :]) & o_has[:, None] & c_has[None, :]

    skill_ok = np.ones((n, m), dtype=bool)
    needed = {o.skill_needed for o in orders if o.skill_needed}
    masks = {s: np.array([s in c.skills for c in crews], dtype=bool) for s in needed}
    for i, o in enumerate(orders):
        if o.skill_needed:
            skill_ok[i] = masks[o.skill_needed]

    static_filters = (
        (OFF_DUTY, np.array([not c.on_duty for c in crews], dtype=bool)),
        (NO_POSITION, ~has_pos),
        (NO_CAPACITY, np.array([c.spare <= 0 for c in crews], dtype=bool)),
    )
    static_ok = np.ones(m, dtype=bool)
    for _, mask in static_filters:
        static_ok &= ~mask
    return _Terms(
        orders=orders,
        crews=crews,
        distance_km=distance,
        travel_min=travel_min,
        travel=policy.travel_weight * travel_min,
        workload=policy.workload_min_per_order
        * np.array([c.open_orders for c in crews], dtype=np.float64),
        sla=policy.sla_late_weight * late,
        territory=np.where(own_grid, -policy.territory_bonus_min, 0.0),
        static_filters=static_filters,
        skill_ok=skill_ok,
        eligible=skill_ok & static_ok[None, :],
        priority=np.array([sla_priority(o, now=now, policy=policy) for o in orders]),
        policy=policy,
    )


# --- one order ------------------------------------------------------------------------------


def rank_crews(
    order: OrderRequest,
    crews: Iterable[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
    rejected_by: Collection[int] = (),
    timed_out: Collection[int] = (),
) -> Ranking:
    """Filter and rank the crews for one order; ``rejected_by``/``timed_out`` are excluded."""
    crews = list(crews)
    t = _terms([order], crews, now=now, policy=policy)
    rejected, late = set(rejected_by), set(timed_out)
    filtered: list[FilteredCrew] = []
    keep: list[int] = []
    for j, crew in enumerate(crews):
        reasons = list(t.reasons(0, j))
        if crew.id in rejected:
            reasons.append(REJECTED)
        if crew.id in late:
            reasons.append(TIMED_OUT)
        if reasons:
            filtered.append(FilteredCrew(crew.id, tuple(reasons)))
        else:
            keep.append(j)
    columns = t.ranked_columns(0, np.array(keep, dtype=np.intp))
    return Ranking(
        order_id=order.id,
        candidates=tuple(t.candidate(0, int(j)) for j in columns),
        filtered=tuple(filtered),
    )


def pick_next_crew(
    order: OrderRequest,
    crews: Iterable[CrewState],
    *,
    rejected_by: Collection[int],
    timed_out: Collection[int],
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
) -> Ranking:
    """Re-dispatch: the ranking without the crews that rejected the order or timed out.

    ``Ranking.best`` is the next crew to offer the order to (None: publish or escalate).
    """
    return rank_crews(
        order, crews, now=now, policy=policy, rejected_by=rejected_by, timed_out=timed_out
    )


# --- greedy and batch assignment ------------------------------------------------------------


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
    hold ``big`` and ``feasible`` marks the others."""

    terms: _Terms
    rows: npt.NDArray[np.intp]
    slot_crew: npt.NDArray[np.intp]
    slot_load: npt.NDArray[np.int64]
    cost: FloatArray
    feasible: BoolArray
    big: float


def batch_cost_matrix(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
) -> BatchMatrix:
    """Build the min-cost assignment matrix of one batch (see the module docstring)."""
    t = _terms(orders, crews, now=now, policy=policy)
    rows = np.flatnonzero(t.eligible.any(axis=1))
    used = np.flatnonzero(t.eligible[rows].any(axis=0)) if len(rows) else np.array([], np.intp)
    # More slots than rows would never be filled: cap each crew at the batch size.
    k = np.minimum(np.array([crews[j].spare for j in used], dtype=np.int64), len(rows))
    slot_crew = np.repeat(used, k).astype(np.intp)
    slot_load = (np.arange(len(slot_crew)) - np.repeat(np.cumsum(k) - k, k)).astype(np.int64)

    feasible = t.eligible[np.ix_(rows, slot_crew)]
    cost = (
        t.cost[np.ix_(rows, slot_crew)]
        + policy.workload_min_per_order * slot_load[None, :]
        - t.priority[rows][:, None]
    )
    big = 0.0
    if feasible.any():
        lo = float(cost[feasible].min())
        cost -= lo
        # With finite costs in [0, spread], any matching with one more feasible pair is cheaper
        # than one with fewer, whatever the costs: so feasible cardinality is maximised first.
        spread = float(cost[feasible].max())
        big = (len(rows) + 1) * (spread + 1.0)
        cost[~feasible] = big
    return BatchMatrix(t, rows, slot_crew, slot_load, cost, feasible, big)


def solve_batch(matrix: BatchMatrix) -> DispatchResult:
    """Solve one batch; infeasible pairs the solver had to use are dropped as unassigned."""
    t = matrix.terms
    orders, crews = t.orders, t.crews
    taken = np.zeros(len(crews), dtype=np.int64)
    assignments: list[Assignment] = []
    served: set[int] = set()
    if matrix.cost.size:
        r, c = linear_sum_assignment(matrix.cost)
        for ri, ci in zip(r, c, strict=True):
            if not matrix.feasible[ri, ci]:
                continue
            i, j = int(matrix.rows[ri]), int(matrix.slot_crew[ci])
            served.add(i)
            assignments.append(
                Assignment(
                    orders[i].id,
                    crews[j].id,
                    "batch",
                    t.candidate(i, j, extra_load=int(matrix.slot_load[ci])),
                    _alternatives(t, i, t.policy.alternatives_kept),
                )
            )
            taken[j] += 1
    solvable = set(matrix.rows.tolist())
    unassigned = [
        Unassigned(
            o.id,
            OUTCOMPETED if i in solvable else NO_ELIGIBLE_CREW,
            t.filtered_counts(i),
        )
        for i, o in enumerate(orders)
        if i not in served
    ]
    assignments.sort(key=lambda a: a.order_id)
    return DispatchResult(tuple(assignments), tuple(unassigned), _with_taken(crews, taken))


def assign_batch(
    orders: Sequence[OrderRequest],
    crews: Sequence[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
) -> DispatchResult:
    """One minimum-cost assignment of ``orders`` to crews, respecting spare capacity."""
    return solve_batch(batch_cost_matrix(orders, crews, now=now, policy=policy))


def is_storm(waiting: int, policy: DispatchPolicy = DEFAULT_POLICY) -> bool:
    """Whether so many orders wait that non-urgent ones go to batch matching."""
    return waiting > policy.storm_threshold


def _urgency_key(order: OrderRequest) -> tuple[float, datetime, int]:
    deadline = order.sla_deadline_at.timestamp() if order.sla_deadline_at else math.inf
    return (deadline, order.created_at, order.id)


def plan_dispatch(
    orders: Iterable[OrderRequest],
    crews: Iterable[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
) -> DispatchResult:
    """Decide crews for all waiting orders: urgent first, one by one (greedy best), tightest
    deadline first; then the rest one by one, or in storm mode in batches of ``batch_size``,
    tightest first, each batch's losers carried into the next."""
    orders = list(orders)
    crews_now: tuple[CrewState, ...] = tuple(crews)
    storm = is_storm(len(orders), policy)
    urgent = sorted((o for o in orders if o.urgent), key=_urgency_key)
    normal = sorted((o for o in orders if not o.urgent), key=_urgency_key)
    assignments: list[Assignment] = []
    unassigned: list[Unassigned] = []

    first = assign_greedy(urgent, crews_now, now=now, policy=policy, mode="urgent")
    assignments += first.assignments
    unassigned += first.unassigned
    crews_now = first.crews
    if not storm:
        rest = assign_greedy(normal, crews_now, now=now, policy=policy, mode="single")
        return DispatchResult(
            tuple(assignments + list(rest.assignments)),
            tuple(unassigned + list(rest.unassigned)),
            rest.crews,
        )

    by_id = {o.id: o for o in normal}
    losers: list[Unassigned] = []
    batches = 0
    for start in range(0, len(normal), policy.batch_size):
        carry = [by_id[u.order_id] for u in losers]
        batch = carry + normal[start : start + policy.batch_size]
        result = assign_batch(batch, crews_now, now=now, policy=policy)
        batches += 1
        crews_now = result.crews
        assignments += result.assignments
        losers = [u for u in result.unassigned if u.reason == OUTCOMPETED]
        unassigned += [u for u in result.unassigned if u.reason != OUTCOMPETED]
    unassigned += losers
    return DispatchResult(tuple(assignments), tuple(unassigned), crews_now, True, batches)


# --- pre-emption ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreemptionDecision:
    """Whether an urgent order may take a crew from its current order, and the reason code."""

    allowed: bool
    reason: str
    details: Mapping[str, float | None]


def preemption_decide(
    *,
    urgent_order: OrderRequest,
    crew: CrewState,
    current_order: OrderRequest,
    current_stage: str,
    best_free: Candidate | None,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
) -> PreemptionDecision:
    """Decide whether ``urgent_order`` may take ``crew`` off ``current_order``.

    Allowed only when: the requester is urgent and the current order is not; the crew is not
    yet on site (``current_stage`` in ``preemptible_stages``: pulling a crew mid-repair leaves
    a hazard); the current order keeps at least ``preempt_victim_min_slack_min`` of SLA slack
    to be re-dispatched; the crew is fit for the urgent order (on duty, skill; its capacity is
    freed by the swap); and no free crew (``best_free``, from ``rank_crews``) arrives within
    ``preempt_min_gain_min`` of it.
    """
    victim_slack = _slack_min(current_order, now)
    details: dict[str, float | None] = {
        "victim_slack_min": None if math.isinf(victim_slack) else round(victim_slack, 2),
        "crew_travel_min": None,
        "free_travel_min": None if best_free is None else round(best_free.travel_min, 2),
        "gain_min": None,
    }

    def decide(allowed: bool, reason: str) -> PreemptionDecision:
        return PreemptionDecision(allowed, reason, MappingProxyType(details))

    if not urgent_order.urgent:
        return decide(False, PREEMPT_NOT_URGENT)
    if current_order.urgent:
        return decide(False, PREEMPT_VICTIM_URGENT)
    if current_stage not in policy.preemptible_stages:
        return decide(False, PREEMPT_STAGE)
    if victim_slack < policy.preempt_victim_min_slack_min:
        return decide(False, PREEMPT_VICTIM_SLA)
    fit = dataclasses.replace(crew, open_orders=max(0, crew.open_orders - 1))
    ranking = rank_crews(urgent_order, [fit], now=now, policy=policy)
    if ranking.best is None:
        return decide(False, PREEMPT_CREW_INELIGIBLE)
    crew_travel = ranking.best.travel_min
    details["crew_travel_min"] = round(crew_travel, 2)
    if best_free is not None:
        gain = best_free.travel_min - crew_travel
        details["gain_min"] = round(gain, 2)
        if gain < policy.preempt_min_gain_min:
            return decide(False, PREEMPT_FREE_CREW)
    return decide(True, PREEMPT_ALLOWED)


# --- grab pool ------------------------------------------------------------------------------


def crews_within_radius(
    order: OrderRequest,
    crews: Iterable[CrewState],
    *,
    policy: DispatchPolicy = DEFAULT_POLICY,
    radius_km: float | None = None,
    eligible_only: bool = True,
) -> list[tuple[int, float]]:
    """``(crew_id, distance_km)`` of the crews within the radius of a published order, nearest
    first. The radius defaults to the policy's for the order's area class; with
    ``eligible_only`` crews that could not claim it (off duty, skill, capacity) are left out."""
    located = [(c, c.lat, c.lng) for c in crews if c.lat is not None and c.lng is not None]
    if not located:
        return []
    crews = [c for c, _, _ in located]
    radius = policy.grab_radius_km[order.area_class] if radius_km is None else radius_km
    lats = np.array([lat for _, lat, _ in located], dtype=np.float64)
    lngs = np.array([lng for _, _, lng in located], dtype=np.float64)
    dist = haversine_km(order.lat, order.lng, lats, lngs).reshape(-1)
    ok = dist <= radius
    if eligible_only:
        skill = order.skill_needed
        ok &= np.array(
            [c.on_duty and c.spare > 0 and (not skill or skill in c.skills) for c in crews],
            dtype=bool,
        )
    hits = np.flatnonzero(ok)
    ids = np.array([crews[j].id for j in hits], dtype=np.int64)
    hits = hits[np.lexsort((ids, dist[hits]))]
    return [(crews[j].id, float(dist[j])) for j in hits]


def grab_bonus_points(
    *, waiting_since: datetime, now: datetime, policy: DispatchPolicy = DEFAULT_POLICY
) -> int:
    """Points a crew earns for claiming an order that has waited since ``waiting_since``:
    ``grab_bonus_points_per_step`` per full ``grab_bonus_step_min``, capped, so stale orders in
    the pool attract claims before they fall back to dispatch."""
    waited = _minutes((now - waiting_since).total_seconds())
    if waited <= 0:
        return 0
    steps = int(waited // policy.grab_bonus_step_min)
    return min(policy.grab_bonus_max_points, steps * policy.grab_bonus_points_per_step)
