"""One order: filter and rank the crews (dispatch, re-dispatch after a refusal)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

import numpy as np

from .costs import _terms
from .model import (
    DEFAULT_POLICY,
    REJECTED,
    TIMED_OUT,
    CrewState,
    DispatchPolicy,
    FilteredCrew,
    OrderRequest,
    Ranking,
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
