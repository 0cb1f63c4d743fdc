"""Planning all waiting orders at once: urgent first, then one matching (storm mode), with
the offers not yet accepted planned again (rolling horizon)."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from .matching import assign_batch, assign_greedy
from .model import (
    DEFAULT_POLICY,
    Assignment,
    CrewState,
    DispatchPolicy,
    DispatchResult,
    Offer,
    OrderRequest,
    Unassigned,
)


def is_storm(waiting: int, policy: DispatchPolicy = DEFAULT_POLICY) -> bool:
    """Whether so many orders wait that non-urgent ones go to batch matching."""
    return waiting > policy.storm_threshold


def _urgency_key(order: OrderRequest) -> tuple[float, datetime, int]:
    deadline = order.sla_deadline_at.timestamp() if order.sla_deadline_at else math.inf
    return (deadline, order.created_at, order.id)


def release_offers(crews: Iterable[CrewState], offers: Sequence[Offer]) -> tuple[CrewState, ...]:
    """The crews with the capacity their standing ``offers`` hold given back (for planning
    those offers again)."""
    held = Counter(offer.crew_id for offer in offers)
    return tuple(
        dataclasses.replace(c, open_orders=max(0, c.open_orders - held[c.id])) if held[c.id] else c
        for c in crews
    )


def plan_dispatch(
    orders: Iterable[OrderRequest],
    crews: Iterable[CrewState],
    *,
    now: datetime,
    policy: DispatchPolicy = DEFAULT_POLICY,
    offers: Sequence[Offer] = (),
) -> DispatchResult:
    """Decide crews for all waiting orders.

    Urgent orders first, one by one (greedy best), tightest deadline first. Then, out of
    storm, the rest one by one; in storm mode (or when standing ``offers`` are given), every
    other waiting order and every standing offer in **one** minimum-cost matching: no batch
    is cut in arrival order, so an order arriving later can win a crew an earlier one would
    have taken for a small gain, and an offer moves only for more than
    ``replan_min_gain_min`` (``matching`` module docstring). ``crews`` count the offers in
    their ``open_orders``.
    """
    orders = list(orders)
    crews_now: tuple[CrewState, ...] = tuple(crews)
    storm = is_storm(len(orders), policy) or bool(offers)
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
    offered = {offer.order.id: offer.crew_id for offer in offers}
    waiting = {o.id for o in normal}
    batch = [*normal, *(offer.order for offer in offers if offer.order.id not in waiting)]
    result = assign_batch(
        batch, release_offers(crews_now, offers), now=now, policy=policy, offers=offered
    )
    return DispatchResult(
        tuple(assignments + list(result.assignments)),
        tuple(unassigned + list(result.unassigned)),
        result.crews,
        storm=True,
        batches=1,
        replanned=result.replanned,
        kept=result.kept,
    )
