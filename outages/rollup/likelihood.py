"""The likelihood predictor: a maximum a-posteriori set of faulted devices.

Under a fault at device D each customer below D calls with an unknown probability p (a Beta
prior centred on ``call_rate``); only faults that someone reported are in question, so the
number of callers is zero-truncated: ``P(k | N, k >= 1)``. A customer with supply calls with
a small rate: mistakes (``background_rate``), event noise (``noise_share`` of the calls spread
over all customers, so it scales with the customers who still have supply) or a fault of
their own premise (its prior from the fault mix; a premise that faulted was reported, so it
called). Every device fault costs its prior odds from the fault mix. Against "every call is
noise or a premise fault", choosing D scores::

    log P(k_D of N_D call | D out, k_D >= 1) - k_D log c - (N_D - k_D) log(1 - c) - lambda_D

and the best set of disjoint devices is found exactly by one bottom-up pass over the
ancestors of the calling devices, ``best(D) = max(score(D), sum(best(child)))``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from .config import FaultKind, RollupConfig
from .coverage import Choice, Coverage, may_predict, owner_lookup
from .rules import rule_reason
from .topology import NONE, Index
from .types import Reason, Report

# exp() overflows just above 709; a margin this large is a certainty anyway.
_MAX_EXP = 700.0
# A prior above this is no longer "a fault is rare"; the odds formula needs p < 1.
_MAX_PRIOR = 0.5

Calls = Mapping[int, Mapping[Hashable, list[Report]]]


def predict_likelihood(
    index: Index,
    blocked: bytearray,
    calls: Calls,
    config: RollupConfig,
    cover: Coverage,
) -> dict[int, Choice]:
    """Devices predicted out (by number), with score and confidence; see the module doc."""
    # Event noise comes with the calls that faults explain (flicker, neighbours): a first
    # pass without it finds them, the second prices stray calls by them. A fault's first
    # call brings no stray of its own, or a lone call would be its own stray.
    model = _Model.build(index, config, explained=0)
    tree = _tree_pass(index, blocked, calls, config, cover, model)
    explained = sum(tree.k[d] - 1 for d in tree.taken_below(tree.roots))
    if explained and config.noise_share:
        model = _Model.build(index, config, explained=explained)
        tree = _tree_pass(index, blocked, calls, config, cover, model)
    chosen: dict[int, Choice] = {}
    for d in tree.taken_below(tree.roots):
        above = _nearest_candidate_above(index, d, tree.score)
        widen = tree.score[above] - tree.split[above] if above != NONE else -math.inf
        chosen[d] = Choice(
            Reason.LIKELIHOOD, tree.score[d], _confidence(tree.score[d], tree.split[d], widen)
        )
    if config.rules_floor:
        _add_rules_floor(index, blocked, calls, config, tree.score, chosen)
    return chosen


@dataclass(slots=True)
class _Model:
    """The numbers of the likelihood for one run: call-in model, baseline, fault costs."""

    outage_ll: Callable[[int, int], float]
    log_call: float  # a call from a customer with supply (noise or own premise)
    log_silent: float  # a customer with supply who does not call
    kind_prior: dict[FaultKind, float]

    @classmethod
    def build(cls, index: Index, config: RollupConfig, *, explained: int) -> _Model:
        """``explained``: calls that faults explain, which bring ``noise_share`` stray calls.

        Stray calls land on customers with supply only: spread over all customers, so the
        fewer are still supplied, the fewer of them to expect (not a share of all calls).
        """
        kind_prior = _kind_priors(index, config)
        population = max(index.customers_all, 1)
        noise = config.background_rate + config.noise_share * explained / population
        premise = kind_prior.get(FaultKind.PREMISE, 0.0)
        rate = min(noise + premise, config.call_rate / 2)
        return cls(
            outage_ll=_outage_likelihood(config),
            log_call=math.log(rate),
            log_silent=math.log1p(-rate),
            kind_prior=kind_prior,
        )

    def element_prior(self, index: Index, d: int) -> float:
        """Prior of a reported fault of ``d`` itself or of a line section it protects."""
        kind = index.kind[d]
        prior = self.kind_prior.get(kind, 0.0) if kind is not None else 0.0
        return prior + index.sections[d] * self.kind_prior.get(FaultKind.SECTION, 0.0)

    def fault_cost(self, index: Index, d: int) -> float:
        """``lambda_D``: the log prior odds against a reported fault of ``d``'s customers.

        Devices above ``d`` that cut off exactly its customers (a fuse in front of one
        transformer) fail with the same calls: their priors add to ``d``'s, and ``d``, the
        lowest of them, names the outage (see :func:`_shadowed`).
        """
        prior = self.element_prior(index, d)
        u = index.up[d]
        while u != NONE and index.total[u] == index.total[d]:
            prior += self.element_prior(index, u)
            u = index.up[u]
        prior = min(max(prior, 1e-300), _MAX_PRIOR)
        return math.log((1 - prior) / prior)


def _kind_priors(index: Index, config: RollupConfig) -> dict[FaultKind, float]:
    """Prior of one element of each kind: the mix over the kinds present, per element.

    An element of kind K gets ``fault_prior * share_K / (n_K / n)``: a kind that fails as
    often as its numbers alone would say keeps the average prior ``fault_prior``.
    """
    mix = config.fault_mix.shares()
    present = {k: index.kind_count.get(k, 0) for k, share in mix.items() if share > 0}
    present = {k: n for k, n in present.items() if n > 0}
    total_share = sum(mix[k] for k in present)
    elements = sum(present.values())
    if not present or total_share <= 0:
        return {}
    return {
        k: config.fault_prior * (mix[k] / total_share) * elements / n for k, n in present.items()
    }


def _outage_likelihood(config: RollupConfig) -> Callable[[int, int], float]:
    """``log P(k of N call | outage, k >= 1)`` as a function of (k, N)."""
    p = config.call_rate
    if config.call_rate_strength is None:
        log_p, log_1p = math.log(p), math.log(1 - p)

        def fixed(callers: int, customers: int) -> float:
            seen = -math.expm1(customers * log_1p) if customers else 1.0
            return callers * log_p + (customers - callers) * log_1p - math.log(seen)

        return fixed

    # The call-in rate of one outage is not known in advance: average over a Beta prior
    # centred on call_rate (a beta-binomial), so 2 calls out of 40 or 9 out of 40 both fit.
    alpha = p * config.call_rate_strength
    beta = (1 - p) * config.call_rate_strength
    prior = _log_beta(alpha, beta)

    def averaged(callers: int, customers: int) -> float:
        silent_all = _log_beta(alpha, beta + customers) - prior
        seen = -math.expm1(silent_all) if customers else 1.0
        return _log_beta(alpha + callers, beta + customers - callers) - prior - math.log(seen)

    return averaged


@dataclass(slots=True)
class _Tree:
    """The bottom-up pass: per candidate its callers, customers, score and best split."""

    k: dict[int, int] = field(default_factory=dict)
    score: dict[int, float] = field(default_factory=dict)
    split: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    take: set[int] = field(default_factory=set)
    kids: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    roots: list[int] = field(default_factory=list)

    def taken_below(self, tops: list[int]) -> list[int]:
        """The devices the best answer takes at or below ``tops``, in number order."""
        found: list[int] = []
        stack = sorted(tops, reverse=True)
        while stack:
            d = stack.pop()
            if d in self.take:
                found.append(d)
            else:
                stack.extend(sorted(self.kids[d], reverse=True))
        return found


def _tree_pass(
    index: Index,
    blocked: bytearray,
    calls: Calls,
    config: RollupConfig,
    cover: Coverage,
    model: _Model,
) -> _Tree:
    tree = _Tree()
    k = tree.k
    # The ancestors of the calling devices are the only candidates.
    for t in calls:
        i = t
        while i != NONE and i not in k:
            k[i] = 0
            i = index.parent[i]
    for t, by_sp in calls.items():
        k[t] += len(by_sp)
    for d in sorted(k, reverse=True):  # children before parents
        best = tree.split[d]
        if (
            index.predictable[d]
            and not index.shadowed[d]
            and not blocked[d]
            and may_predict(d, cover, config)
        ):
            s = _device_score(index, d, k[d], config, cover, model, tree)
            # Strictly better only: on a tie the lower device(s) win.
            if s > best:
                tree.take.add(d)
                best = s
        parent = index.parent[d]
        if parent == NONE:
            tree.roots.append(d)
        else:
            k[parent] += k[d]
            tree.split[parent] += best
            tree.kids[parent].append(d)
    return tree


def _device_score(
    index: Index,
    d: int,
    kd: int,
    config: RollupConfig,
    cover: Coverage,
    model: _Model,
    tree: _Tree,
) -> float:
    """Log-likelihood ratio of "``d`` is out" against "its calls are noise", prior included."""
    # Customers of active outages below are already out: neither callers nor silent.
    n = max(index.total[d] - cover.covered_customers_under.get(d, 0), kd)
    fault = model.fault_cost(index, d)
    s = model.outage_ll(kd, n) - kd * model.log_call - (n - kd) * model.log_silent - fault
    absorbed = cover.covered_count_under.get(d, 0) if config.widen_covered else 0
    if absorbed and (s > 0 or kd >= config.min_reports):
        # Each absorbed outage is one independent fault fewer to assume. Only when the new
        # calls are an outage's worth on their own (likely, or as many as the rules ask for):
        # one stray call next to an active outage must not widen it.
        s += absorbed * fault
    tree.score[d] = s
    return s


def _add_rules_floor(
    index: Index,
    blocked: bytearray,
    calls: Calls,
    config: RollupConfig,
    score: Mapping[int, float],
    chosen: dict[int, Choice],
) -> None:
    """Predict the calling transformers the rules would predict and nothing explains."""
    explained = owner_lookup(index, chosen)
    for t, by_sp in calls.items():
        if blocked[t] or not index.is_transformer[t] or explained(t) != NONE:
            continue
        reason = rule_reason(len(by_sp), index.total[t], config)
        if reason is not None and t in score:
            chosen[t] = Choice(reason, score[t], _confidence(score[t], 0.0, -math.inf))


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
