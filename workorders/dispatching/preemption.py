"""Pre-emption: whether an urgent order may take a crew off a routine one."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from .costs import _slack_min
from .model import (
    DEFAULT_POLICY,
    PREEMPT_ALLOWED,
    PREEMPT_CREW_INELIGIBLE,
    PREEMPT_FREE_CREW,
    PREEMPT_NOT_URGENT,
    PREEMPT_STAGE,
    PREEMPT_VICTIM_SLA,
    PREEMPT_VICTIM_URGENT,
    Candidate,
    CrewState,
    DispatchPolicy,
    OrderRequest,
)
from .ranking import rank_crews

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
