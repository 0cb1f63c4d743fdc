"""The likelihood predictor: a maximum a-posteriori set of faulted devices."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping

from .config import RollupConfig
from .coverage import Choice, Coverage, may_predict, owner_lookup
from .rules import rule_reason
from .topology import NONE, Index
from .types import Reason, Report

_MAX_EXP = 700.0


def predict_likelihood(
    index: Index,
    blocked: bytearray,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    config: RollupConfig,
    cover: Coverage,
) -> dict[int, Choice]:
    p, q = config.call_rate, config.background_rate
    log_q, log_1q = math.log(q), math.log(1 - q)
    if config.call_rate_strength is None:
        log_p, log_1p = math.log(p), math.log(1 - p)

        def outage_ll(callers: int, customers: int) -> float:
            return callers * log_p + (customers - callers) * log_1p

    else:
        # The call-in rate of one outage is not known in advance: average over a Beta prior
        # centred on call_rate (a beta-binomial), so 2 calls out of 40 or 9 out of 40 both fit.
        alpha = p * config.call_rate_strength
        beta = (1 - p) * config.call_rate_strength
        prior = _log_beta(alpha, beta)

        def outage_ll(callers: int, customers: int) -> float:
            return _log_beta(alpha + callers, beta + customers - callers) - prior

    fault = math.log((1 - config.fault_prior) / config.fault_prior)

    # The ancestors of the calling transformers are the only candidates.
    k: dict[int, int] = {}
    for t in calls:
        i = t
        while i != NONE and i not in k:
            k[i] = 0
            i = index.parent[i]
    for t, by_sp in calls.items():
        k[t] += len(by_sp)
    score: dict[int, float] = {}
    size: dict[int, int] = {}
    split: dict[int, float] = defaultdict(float)
    take: set[int] = set()
    kids: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    for d in sorted(k, reverse=True):  # children before parents
        kd = k[d]
        below = split[d]
        best = below
        if index.predictable[d] and not blocked[d] and may_predict(d, cover, config):
            # Customers of active outages below are already out: neither callers nor silent.
            n = max(index.total[d] - cover.covered_customers_under.get(d, 0), kd)
            size[d] = n
            # Against "these calls are noise and these customers have supply".
            s = outage_ll(kd, n) - kd * log_q - (n - kd) * log_1q - fault
            if config.widen_covered and s > 0:
                # Each absorbed outage is one independent fault fewer to assume. Only when the
                # new calls make an outage here likely on their own: one stray call next to an
                # active outage must not widen it.
                s += cover.covered_count_under.get(d, 0) * fault
            score[d] = s
            # Strictly better only: on a tie the lower device(s) win.
            if s > below:
                take.add(d)
                best = s
        parent = index.parent[d]
        if parent == NONE:
            roots.append(d)
        else:
            k[parent] += kd
            split[parent] += best
            kids[parent].append(d)

    def taken_below(tops: list[int]) -> list[int]:
        found: list[int] = []
        stack = sorted(tops, reverse=True)
        while stack:
            d = stack.pop()
            if d in take:
                found.append(d)
            else:
                stack.extend(sorted(kids[d], reverse=True))
        return found

    def part(d: int) -> tuple[int, int, float]:
        # Callers, customers and the log-likelihood of d's outage (prior included).
        return k[d], size[d], score[d] + k[d] * log_q + (size[d] - k[d]) * log_1q

    calling = sum(len(by_sp) for by_sp in calls.values())
    supplied = max(index.customers_all - cover.customers, 1)
    chosen_nodes, widen_instead = _trim_outliers(
        taken_below(roots),
        below=lambda d: taken_below(kids[d]),
        part=part,
        supplied=supplied,
        calling=calling,
        noise_mean=config.background_rate * supplied + config.noise_share * calling,
    )
    chosen: dict[int, Choice] = {}
    for d in chosen_nodes:
        if d in widen_instead:
            widen = widen_instead[d]
        else:
            above = _nearest_candidate_above(index, d, score)
            widen = score[above] - split[above] if above != NONE else -math.inf
        chosen[d] = Choice(Reason.LIKELIHOOD, score[d], _confidence(score[d], split[d], widen))

    if config.rules_floor:
        explained = owner_lookup(index, chosen)
        for t, by_sp in calls.items():
            if blocked[t] or explained(t) != NONE:
                continue
            reason = rule_reason(len(by_sp), index.total[t], config)
            if reason is not None and t in score:
                chosen[t] = Choice(reason, score[t], _confidence(score[t], 0.0, -math.inf))
    return chosen


def _trim_outliers(
    chosen: list[int],
    *,
    below: Callable[[int], list[int]],
    part: Callable[[int], tuple[int, int, float]],
    supplied: int,
    calling: int,
    noise_mean: float,
) -> tuple[list[int], dict[int, float]]:
    """Give back the stray calls a prediction only took because noise was priced too thinly.

    The tree pass prices unrelated calls per customer, as if they could land anywhere. They
    land only on customers with supply, and part of them comes with the event itself
    (``noise_share`` of all calls). When a prediction leaves few customers with supply, calls
    just outside the true outage are far likelier to be noise than the tree pass assumed. So
    the answer is scored exactly (a Poisson number of unrelated calls placed uniformly on the
    supplied customers), and a prediction is replaced by the best split below it when that
    scores higher and still explains most of its calls: this trims outliers, it never drops
    an outage. Also returns, for each piece of a trimmed prediction, the log-odds of keeping
    the untrimmed one instead (for its confidence).
    """

    def noise(outside: int, stray: int) -> float:
        if stray > outside:
            return -math.inf
        return (
            stray * math.log(noise_mean)
            + math.lgamma(outside - stray + 1)
            - math.lgamma(outside + 1)
        )

    current = set(chosen)
    widen_instead: dict[int, float] = {}
    outside = supplied - sum(part(d)[1] for d in current)
    stray = calling - sum(part(d)[0] for d in current)
    work = sorted(current, key=lambda d: (part(d)[1], -d))  # pop() takes the largest
    while work:
        d = work.pop()
        callers, customers, own = part(d)
        split = below(d)
        pieces = [part(c) for c in split]
        kept = sum(piece[0] for piece in pieces)
        if 2 * kept < callers:
            continue
        new_outside = outside + customers - sum(piece[1] for piece in pieces)
        new_stray = stray + callers - kept
        change = sum(piece[2] for piece in pieces) - own
        change += noise(new_outside, new_stray) - noise(outside, stray)
        if change > 0:
            current.discard(d)
            current.update(split)
            outside, stray = new_outside, new_stray
            work = sorted({*work, *split}, key=lambda c: (part(c)[1], -c))
            for c in split:
                widen_instead[c] = -change
    return sorted(current), widen_instead


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _nearest_candidate_above(index: Index, d: int, score: Mapping[int, float]) -> int:
    i = index.parent[d]
    while i != NONE and i not in score:
        i = index.parent[i]
    return i


def _confidence(own: float, split_below: float, widen_gain: float) -> float:
    """Probability of the chosen device against its two nearest rivals (log-odds given)."""
    terms = 1.0
    for delta in (split_below - own, widen_gain):
        if delta != -math.inf:
            terms += math.exp(min(delta, _MAX_EXP))
    return 1.0 / terms
