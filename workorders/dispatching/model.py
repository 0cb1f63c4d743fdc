"""The plain values of the dispatch decision: reason codes and their labels, crews and orders
as the dispatcher sees them, the policy, and what a decision returns. No ORM, no clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

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
        "no_location": gettext_noop("工单位置未知，无法按距离排序"),
        "no_crew_on_duty": gettext_noop("没有在班班组"),
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
    # Storm mode: batch matching once more than this many orders wait. All the orders waiting
    # at that moment are matched together; ``batch_size`` is only how many assignments the
    # service commits per transaction, so the first are committed early.
    storm_threshold: int = 30
    batch_size: int = 50
    # The batch links each order to this many of its cheapest crews only (a sparse matching,
    # much faster than the dense one at storm sizes) and solves the dense matrix when that
    # cannot serve every order; 0 always solves the dense matrix.
    batch_neighbours: int = 16
    # Rolling horizon: offers no crew has accepted yet are planned again with new arrivals;
    # an offer moves to another crew only when the plan gains at least this much per moved
    # offer (minute-equivalents), so crews are not shuffled for a minute's gain.
    replan_min_gain_min: float = 2.0
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
        if self.batch_neighbours < 0:
            raise ValueError("batch_neighbours must not be negative")
        if self.replan_min_gain_min < 0:
            raise ValueError("replan_min_gain_min must not be negative")


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
    """An order given to a crew. ``mode`` is "urgent", "single", "batch" or "replan" (an
    offer not yet accepted, moved to another crew by the rolling horizon)."""

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
    # Rolling horizon: offers moved to another crew ("replan" assignments, ``crew_id`` the new
    # crew) and how many offers stayed with their crew.
    replanned: tuple[Assignment, ...] = ()
    kept: int = 0


@dataclass(frozen=True, slots=True)
class Offer:
    """An order offered to a crew that has not accepted it yet: the rolling horizon may move
    it. The crew's ``open_orders`` counts it."""

    order: OrderRequest
    crew_id: int
