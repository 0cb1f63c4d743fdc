"""Travel, SLA slack and the cost terms of every order x crew pair, vectorised with numpy."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from .model import (
    _FILTER_ORDER,
    DEFAULT_POLICY,
    EARTH_RADIUS_KM,
    MISSING_SKILL,
    NO_CAPACITY,
    NO_POSITION,
    OFF_DUTY,
    Candidate,
    CrewState,
    DispatchPolicy,
    OrderRequest,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# --- geometry -------------------------------------------------------------------------------


def haversine_km(
    lat1: npt.ArrayLike, lng1: npt.ArrayLike, lat2: npt.ArrayLike, lng2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km; numpy broadcasting (pass ``a[:, None]``, ``b[None, :]``)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lat1, lng1, lat2, lng2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def _unit_vectors(lat: FloatArray, lng: FloatArray) -> FloatArray:
    phi, lam = np.radians(lat), np.radians(lng)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def distance_matrix_km(
    lat1: FloatArray, lng1: FloatArray, lat2: FloatArray, lng2: FloatArray
) -> FloatArray:
    """Great-circle km between every point 1 and every point 2, as an (n, m) matrix: the
    trigonometry is done once per point (unit vectors), the pairs only take the chord's
    coordinate differences, which keeps the precision of short distances."""
    a, b = _unit_vectors(lat1, lng1), _unit_vectors(lat2, lng2)
    chord2 = np.zeros((a.shape[1], b.shape[1]), dtype=np.float64)
    for axis in range(3):
        diff = a[axis][:, None] - b[axis][None, :]
        chord2 += diff * diff
    half = np.sqrt(chord2) * 0.5
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(half, 1.0)))


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
    distance = distance_matrix_km(o_lat, o_lng, c_lat, c_lng)

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
        # ``sla_priority`` for every order, from the slack computed once above.
        priority=policy.sla_priority_weight
        * np.maximum(0.0, policy.sla_priority_horizon_min - slack),
        policy=policy,
    )
