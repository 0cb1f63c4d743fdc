"""The classic rule set: thresholds per transformer, then predicted children roll up."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Mapping

from .config import RollupConfig
from .coverage import Choice, Coverage, may_predict
from .topology import NONE, Index
from .types import Reason, Report


def rule_reason(calling: int, customers: int, config: RollupConfig) -> Reason | None:
    if calling >= config.min_reports:
        return Reason.MIN_REPORTS
    if customers > 0 and calling / customers >= config.transformer_share:
        return Reason.CUSTOMER_SHARE
    return None


def predict_rules(
    index: Index,
    blocked: bytearray,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    config: RollupConfig,
    cover: Coverage,
) -> dict[int, Choice]:
    predicted: dict[int, Choice] = {}
    for t, by_sp in calls.items():
        reason = rule_reason(len(by_sp), index.total[t], config)
        if reason is not None and index.predictable[t] and not blocked[t]:
            predicted[t] = Choice(reason)
    new_children: dict[int, int] = defaultdict(int)
    old_children: dict[int, int] = defaultdict(int)
    if config.widen_covered:
        for c in cover.top:
            if index.up[c] != NONE:
                old_children[index.up[c]] += 1
    heap: list[int] = []
    for d in predicted:
        u = index.up[d]
        if u != NONE:
            new_children[u] += 1
            heap.append(-u)
    heapq.heapify(heap)
    done: set[int] = set()
    # Numbers only decrease as we pop (a parent's number is below its children's), so every
    # child has been settled before its parent is examined.
    while heap:
        u = -heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if u in predicted or blocked[u] or not may_predict(u, cover, config):
            continue
        if new_children[u] + old_children[u] >= config.rollup_children:
            predicted[u] = Choice(Reason.CHILDREN)
            w = index.up[u]
            if w != NONE:
                new_children[w] += 1
                heapq.heappush(heap, -w)
    return predicted
