"""The outage roll-up engine: from open trouble reports to predicted outage devices. Pure Python.

Customers call; each report is resolved to a service point under a distribution transformer,
which hangs below a chain of switching devices up to a feeder breaker. This module groups the
open, unmerged reports of a time window by topology and predicts the lowest device(s) that
explain them. It knows nothing about the database: the caller builds a :class:`Topology` from
the network (``parent`` links, customers per transformer, device roles, telemetry) and passes
plain :class:`Report` values; the answer is a :class:`RollupResult`.

Two predictors share the same inputs and outputs (``RollupConfig.mode``):

``rules``
    The classic OMS rule set: ``min_reports`` calls from different service points, or
    ``transformer_share`` of a transformer's customers, predict the transformer; a device with
    ``rollup_children`` predicted children becomes the prediction instead of them.

``likelihood`` (default)
    A maximum a-posteriori choice of the set of faulted devices. Under a fault at device D each
    customer below D calls with an unknown probability p, drawn from a Beta prior centred on
    ``call_rate`` (weight ``call_rate_strength``; None fixes p); any other customer calls with
    the small ``background_rate`` q; every fault costs its prior odds
    ``lambda = log((1 - fault_prior) / fault_prior)``. Against "every call is noise", choosing
    D scores (k_D distinct calling service points below D, N_D customers below D)::

        log P(k_D of N_D call | outage)  -  k_D log q  -  (N_D - k_D) log(1 - q)  -  lambda

    where the first term is the beta-binomial ``log B(a + k, b + N - k) - log B(a, b)`` (with
    a fixed p: ``k log p + (N - k) log(1 - p)``). Each caller below D is strong evidence for
    it, each silent customer below D weak evidence against it. The best set of disjoint
    devices is found exactly by one bottom-up pass over the ancestors of the calling
    transformers, ``best(D) = max(score(D), sum(best(child)))``. This works on chains (where the
    children rule never fires), weighs a device against its ancestors and siblings, leaves far
    noise calls alone, and separates simultaneous faults. A second, exact look then trims
    outliers: unrelated calls (``background_rate`` per customer plus ``noise_share`` of all
    calls) can only come from customers who still have supply, so a prediction that swallowed
    a few calls from the handful of customers it would leave supplied is replaced by the best
    split below it when that is likelier (see :func:`_trim_outliers`). Transformers that the
    rules would predict but the model leaves unexplained are still predicted
    (``rules_floor``), so a transformer never needs more calls than under the rules.

Both predictors never predict at or above a device that telemetry reports closed (energised),
ignore reports below a device already covered by an active outage (returned in
``covered_reports`` for merging), and turn every report that no prediction explains into a
single-premise request. Covered devices may be *absorbed* by a prediction above them, which
the caller handles by widening the outage (``Prediction.absorbs``; ``widen_covered=False``
forbids predictions above covered devices instead).

Cost: building a :class:`Topology` is linear in the number of devices and is meant to be
cached; one :func:`rollup` run is linear in the number of reports plus the number of distinct
ancestors of the calling transformers, so a storm (tens of thousands of reports over ~100k
devices) takes a fraction of a second. Results are deterministic: ties go to the lower device
and every list follows the topology's or the input's order.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

DeviceId = Hashable
ReportId = Hashable
ServicePointId = Hashable

_NONE = -1
# exp() overflows just above 709; a margin this large is a certainty anyway.
_MAX_EXP = 700.0


class Mode(StrEnum):
    """Which predictor :func:`rollup` runs."""

    LIKELIHOOD = "likelihood"
    RULES = "rules"


class Reason(StrEnum):
    """Why a device was predicted (a stable code; the UI translates it)."""

    MIN_REPORTS = "min_reports"
    CUSTOMER_SHARE = "customer_share"
    CHILDREN = "children"
    LIKELIHOOD = "likelihood"


@dataclass(frozen=True, slots=True)
class RollupConfig:
    """Tuning of the roll-up engine. The defaults are the day-to-day settings.

    ``window``: only reports at or after ``now - window`` are grouped.
    ``min_reports`` / ``transformer_share`` / ``rollup_children``: the rule thresholds.
    ``call_rate``: expected share of the customers of a faulted device who call in a window;
    ``call_rate_strength``: how sure that expectation is, in pseudo-customers (None: exact).
    ``background_rate``: chance that a customer with supply calls anyway (own premise, mistake).
    ``fault_prior``: chance that a given device fails in a window; sets the cost of one more
    fault, i.e. how readily calls are split between several predictions.
    ``noise_share``: share of all calls that are unrelated to any outage (wrong address,
    flicker, neighbour's fault) on top of the background rate.
    ``rules_floor``: in likelihood mode, still predict transformers that meet the rules.
    ``widen_covered``: allow predictions above devices of active outages (absorbing them).
    """

    mode: Mode = Mode.LIKELIHOOD
    window: timedelta = timedelta(minutes=30)
    min_reports: int = 2
    transformer_share: float = 0.5
    rollup_children: int = 2
    call_rate: float = 0.1
    call_rate_strength: float | None = 20.0
    background_rate: float = 1e-4
    fault_prior: float = 1e-4
    noise_share: float = 0.02
    rules_floor: bool = True
    widen_covered: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode(self.mode))
        if self.window <= timedelta(0):
            raise ValueError("window must be positive")
        if self.min_reports < 1 or self.rollup_children < 1:
            raise ValueError("min_reports and rollup_children must be at least 1")
        if not 0 < self.transformer_share <= 1:
            raise ValueError("transformer_share must be in (0, 1]")
        for name in ("call_rate", "background_rate", "fault_prior"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1)")
        if self.call_rate_strength is not None and self.call_rate_strength <= 0:
            raise ValueError("call_rate_strength must be positive (or None for a fixed rate)")
        if not 0 <= self.noise_share < 1:
            raise ValueError("noise_share must be in [0, 1)")
        if self.background_rate >= self.call_rate:
            raise ValueError("background_rate must be below call_rate")

    @classmethod
    def storm(cls, **overrides: Any) -> RollupConfig:
        """Storm settings: calls trickle in over a longer window, fewer customers bother to
        call (many expect the outage), and many devices fail at once, so a further fault is
        far less surprising than on a calm day."""
        values: dict[str, Any] = {
            "window": timedelta(minutes=60),
            "call_rate": 0.05,
            "background_rate": 2e-4,
            "fault_prior": 1e-3,
        }
        values.update(overrides)
        return cls(**values)


DEFAULT_CONFIG = RollupConfig()


@dataclass(frozen=True, slots=True)
class Report:
    """One open, unmerged trouble report, already resolved (as far as possible).

    ``service_point`` None: the caller could not be matched to a premise (each such report
    counts as its own premise). ``transformer`` None or unknown: nothing can explain it.
    """

    id: ReportId
    service_point: ServicePointId | None
    transformer: DeviceId | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Prediction:
    """A device predicted out, with the reports it explains.

    ``callers``: distinct service points among them; ``customers``: customers below the device.
    ``score``: likelihood mode, the log-likelihood ratio (net of the fault prior) of this fault
    against "these calls are noise"; rules mode, the share of the customers who called.
    ``confidence``: likelihood mode, the probability of this device against widening it one
    level up or splitting it below; rules mode, always 1 (thresholds do not grade certainty).
    ``absorbs``: devices of active outages below this one (the caller widens or merges them).
    """

    device: DeviceId
    report_ids: tuple[ReportId, ...]
    callers: int
    customers: int
    score: float
    confidence: float
    reason: Reason
    absorbs: tuple[DeviceId, ...] = ()


@dataclass(frozen=True, slots=True)
class SinglePremise:
    """Reports of one service point that no device explains: a single-premise work order."""

    service_point: ServicePointId | None
    transformer: DeviceId | None
    report_ids: tuple[ReportId, ...]


@dataclass(frozen=True, slots=True)
class RollupResult:
    """What :func:`rollup` found. Every input report appears in exactly one place.

    ``covered_reports``: report id → the active-outage device it falls under (merge it there).
    ``stale_report_ids``: reports older than the window, not used.
    """

    predictions: tuple[Prediction, ...]
    single_premise: tuple[SinglePremise, ...]
    covered_reports: Mapping[ReportId, DeviceId]
    stale_report_ids: tuple[ReportId, ...]


class _Index:
    """Array form of a topology: devices numbered so that a parent comes before its children."""

    __slots__ = (
        "ids",
        "pos",
        "parent",
        "up",
        "total",
        "customers_all",
        "predictable",
        "is_transformer",
    )

    def __init__(
        self,
        parent: Mapping[DeviceId, DeviceId | None],
        customers: Mapping[DeviceId, int],
        switching: frozenset[DeviceId],
        transformers: frozenset[DeviceId],
    ) -> None:
        for label, devices in (
            ("customers", customers.keys()),
            ("switching", switching),
            ("transformers", transformers),
        ):
            unknown = [d for d in devices if d not in parent]
            if unknown:
                raise ValueError(f"{label} names devices missing from parent: {unknown[:5]!r}")
        children: dict[DeviceId, list[DeviceId]] = defaultdict(list)
        roots: list[DeviceId] = []
        for device, up in parent.items():
            if up is None:
                roots.append(device)
            elif up not in parent:
                raise ValueError(f"parent of {device!r} is unknown: {up!r}")
            else:
                children[up].append(device)
        # Breadth-first numbering: a parent's number is below its children's, which lets every
        # later pass run bottom-up by walking numbers downwards, without recursion.
        ids: list[DeviceId] = list(roots)
        head = 0
        while head < len(ids):
            ids.extend(children.get(ids[head], ()))
            head += 1
        if len(ids) != len(parent):
            raise ValueError("parent links contain a cycle")
        pos = {device: i for i, device in enumerate(ids)}
        n = len(ids)
        par = [_NONE] * n
        for i, device in enumerate(ids):
            up = parent[device]
            if up is not None:
                par[i] = pos[up]
        predictable = [False] * n
        is_transformer = [False] * n
        for device in switching:
            predictable[pos[device]] = True
        for device in transformers:
            predictable[pos[device]] = True
            is_transformer[pos[device]] = True
        total = [0] * n
        for device, count in customers.items():
            if count < 0:
                raise ValueError(f"negative customer count for {device!r}")
            total[pos[device]] = count
        for i in range(n - 1, -1, -1):
            if par[i] != _NONE:
                total[par[i]] += total[i]
        # Nearest predictable strict ancestor: the "parent" that the children rule counts for.
        up_pred = [_NONE] * n
        for i in range(n):
            p = par[i]
            if p != _NONE:
                up_pred[i] = p if predictable[p] else up_pred[p]
        self.ids = ids
        self.pos = pos
        self.parent = par
        self.up = up_pred
        self.total = total
        self.customers_all = sum(total[i] for i in range(n) if par[i] == _NONE)
        self.predictable = predictable
        self.is_transformer = is_transformer


@dataclass(frozen=True, eq=False)
class Topology:
    """The network as the roll-up engine sees it.

    ``parent``: every device → its upstream device (None at a feeder head). Devices that are
    neither switching devices nor transformers (junctions, conductor) may appear: they pass
    calls up but are never predicted. ``customers``: customers directly under each
    transformer (the counts below any device follow). ``closed``: devices that telemetry
    reports closed and carrying load; neither they nor anything above them can be out.

    Building the index is linear in the number of devices; keep one topology per network
    version and use :meth:`with_closed` when only the telemetry changes.
    """

    parent: Mapping[DeviceId, DeviceId | None]
    customers: Mapping[DeviceId, int]
    switching: frozenset[DeviceId]
    transformers: frozenset[DeviceId]
    closed: frozenset[DeviceId] = frozenset()
    shared_index: InitVar[_Index | None] = None
    _index: _Index = field(init=False, repr=False)
    _blocked: bytearray = field(init=False, repr=False)

    def __post_init__(self, shared_index: _Index | None) -> None:
        index = shared_index or _Index(
            self.parent, self.customers, frozenset(self.switching), frozenset(self.transformers)
        )
        blocked = bytearray(len(index.ids))
        for device in self.closed:
            i = index.pos.get(device, _NONE)
            # Closed and energised means its whole upstream path is energised too.
            while i != _NONE and not blocked[i]:
                blocked[i] = 1
                i = index.parent[i]
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_blocked", blocked)

    def with_closed(self, closed: Iterable[DeviceId]) -> Topology:
        """The same network with another telemetry picture, reusing the built index."""
        return Topology(
            self.parent,
            self.customers,
            self.switching,
            self.transformers,
            frozenset(closed),
            self._index,
        )

    def customers_below(self, device: DeviceId) -> int:
        """Customers cut off when ``device`` opens (its own and everything downstream)."""
        return self._index.total[self._index.pos[device]]


def rollup(
    reports: Iterable[Report],
    topology: Topology,
    *,
    config: RollupConfig = DEFAULT_CONFIG,
    covered: Iterable[DeviceId] = (),
    now: datetime | None = None,
) -> RollupResult:
    """Group ``reports`` by topology and predict the devices that explain them.

    ``covered``: devices of active outages; reports at or below them are not used (they are
    returned in ``covered_reports``). ``now``: the end of the window (default: the latest
    report). Pure and deterministic.
    """
    index = topology._index
    blocked = topology._blocked
    reports = list(reports)
    stale: list[ReportId] = []
    if reports:
        if now is None:
            now = max(r.at for r in reports)
        cutoff = now - config.window
        live = []
        for report in reports:
            if report.at < cutoff:
                stale.append(report.id)
            else:
                live.append(report)
    else:
        live = []

    cover = _Coverage(index, covered)
    covered_reports: dict[ReportId, DeviceId] = {}
    unlocated: list[Report] = []
    # transformer number → service point key → its reports, in input order.
    calls: dict[int, dict[Hashable, list[Report]]] = {}
    covering: dict[int, int] = {}
    for report in live:
        t = index.pos.get(report.transformer, _NONE) if report.transformer is not None else _NONE
        if t == _NONE or not index.is_transformer[t]:
            unlocated.append(report)
            continue
        c = covering.get(t)
        if c is None:
            c = covering[t] = cover.covering(t)
        if c != _NONE:
            covered_reports[report.id] = index.ids[c]
            continue
        key: Hashable = (
            ("sp", report.service_point)
            if report.service_point is not None
            else ("report", report.id)
        )
        calls.setdefault(t, {}).setdefault(key, []).append(report)

    if config.mode is Mode.RULES:
        chosen = _predict_rules(index, blocked, calls, config, cover)
    else:
        chosen = _predict_likelihood(index, blocked, calls, config, cover)

    position = {id(report): n for n, report in enumerate(live)}
    return _assemble(
        index, calls, chosen, cover, unlocated, covered_reports, stale, config, position
    )


@dataclass(slots=True)
class _Choice:
    reason: Reason
    score: float = 0.0
    confidence: float = 1.0


class _Coverage:
    """Active-outage devices: which transformer they cover and what they add to ancestors."""

    def __init__(self, index: _Index, covered: Iterable[DeviceId]) -> None:
        self._index = index
        marked = {index.pos[d] for d in covered if d in index.pos}
        self._memo: dict[int, int] = {}
        # Only the top-most covered devices matter; one inside another is already covered.
        self.top = sorted(c for c in marked if self._first_marked_above(c, marked) == _NONE)
        self._top_set = set(self.top)
        self.customers = sum(index.total[c] for c in self.top)
        self.covered_customers_under: dict[int, int] = defaultdict(int)
        self.covered_count_under: dict[int, int] = defaultdict(int)
        for c in self.top:
            i = index.parent[c]
            while i != _NONE:
                self.covered_customers_under[i] += index.total[c]
                self.covered_count_under[i] += 1
                i = index.parent[i]

    def _first_marked_above(self, c: int, marked: set[int]) -> int:
        i = self._index.parent[c]
        while i != _NONE:
            if i in marked:
                return i
            i = self._index.parent[i]
        return _NONE

    def covering(self, t: int) -> int:
        """The covered device at or above ``t``, or ``_NONE``."""
        if not self.top:
            return _NONE
        path: list[int] = []
        i = t
        found = _NONE
        while i != _NONE:
            if i in self._memo:
                found = self._memo[i]
                break
            if i in self._top_set:
                found = i
                break
            path.append(i)
            i = self._index.parent[i]
        for j in path:
            self._memo[j] = found
        return found


def _rule_reason(calling: int, customers: int, config: RollupConfig) -> Reason | None:
    if calling >= config.min_reports:
        return Reason.MIN_REPORTS
    if customers > 0 and calling / customers >= config.transformer_share:
        return Reason.CUSTOMER_SHARE
    return None


def _predict_rules(
    index: _Index,
    blocked: bytearray,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    config: RollupConfig,
    cover: _Coverage,
) -> dict[int, _Choice]:
    predicted: dict[int, _Choice] = {}
    for t, by_sp in calls.items():
        reason = _rule_reason(len(by_sp), index.total[t], config)
        if reason is not None and not blocked[t]:
            predicted[t] = _Choice(reason)
    new_children: dict[int, int] = defaultdict(int)
    old_children: dict[int, int] = defaultdict(int)
    if config.widen_covered:
        for c in cover.top:
            if index.up[c] != _NONE:
                old_children[index.up[c]] += 1
    heap: list[int] = []
    for d in predicted:
        u = index.up[d]
        if u != _NONE:
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
        if u in predicted or blocked[u] or not _may_predict(u, cover, config):
            continue
        if new_children[u] + old_children[u] >= config.rollup_children:
            predicted[u] = _Choice(Reason.CHILDREN)
            w = index.up[u]
            if w != _NONE:
                new_children[w] += 1
                heapq.heappush(heap, -w)
    return predicted


def _may_predict(d: int, cover: _Coverage, config: RollupConfig) -> bool:
    return config.widen_covered or cover.covered_count_under.get(d, 0) == 0


def _predict_likelihood(
    index: _Index,
    blocked: bytearray,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    config: RollupConfig,
    cover: _Coverage,
) -> dict[int, _Choice]:
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
        while i != _NONE and i not in k:
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
        if index.predictable[d] and not blocked[d] and _may_predict(d, cover, config):
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
        if parent == _NONE:
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
    chosen: dict[int, _Choice] = {}
    for d in chosen_nodes:
        if d in widen_instead:
            widen = widen_instead[d]
        else:
            above = _nearest_candidate_above(index, d, score)
            widen = score[above] - split[above] if above != _NONE else -math.inf
        chosen[d] = _Choice(Reason.LIKELIHOOD, score[d], _confidence(score[d], split[d], widen))

    if config.rules_floor:
        explained = _owner_lookup(index, chosen)
        for t, by_sp in calls.items():
            if blocked[t] or explained(t) != _NONE:
                continue
            reason = _rule_reason(len(by_sp), index.total[t], config)
            if reason is not None and t in score:
                chosen[t] = _Choice(reason, score[t], _confidence(score[t], 0.0, -math.inf))
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


def _nearest_candidate_above(index: _Index, d: int, score: Mapping[int, float]) -> int:
    i = index.parent[d]
    while i != _NONE and i not in score:
        i = index.parent[i]
    return i


def _confidence(own: float, split_below: float, widen_gain: float) -> float:
    """Probability of the chosen device against its two nearest rivals (log-odds given)."""
    terms = 1.0
    for delta in (split_below - own, widen_gain):
        if delta != -math.inf:
            terms += math.exp(min(delta, _MAX_EXP))
    return 1.0 / terms


def _owner_lookup(index: _Index, chosen: Mapping[int, _Choice]) -> Callable[[int], int]:
    """A function giving the top-most chosen device at or above a device (memoised walk)."""
    memo: dict[int, int] = {}

    def owner(t: int) -> int:
        path: list[int] = []
        i = t
        while i != _NONE and i not in memo:
            path.append(i)
            i = index.parent[i]
        found = memo[i] if i != _NONE else _NONE
        # Walk back down: the top-most chosen device on the path wins.
        for j in reversed(path):
            if found == _NONE and j in chosen:
                found = j
            memo[j] = found
        return found

    return owner


def _assemble(
    index: _Index,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    chosen: Mapping[int, _Choice],
    cover: _Coverage,
    unlocated: list[Report],
    covered_reports: dict[ReportId, DeviceId],
    stale: list[ReportId],
    config: RollupConfig,
    position: Mapping[int, int],
) -> RollupResult:
    owner = _owner_lookup(index, chosen)
    explained: dict[int, list[list[Report]]] = defaultdict(list)
    lone: list[tuple[int, list[Report]]] = []
    for t, by_sp in calls.items():
        d = owner(t)
        for group in by_sp.values():
            if d == _NONE:
                lone.append((t, group))
            else:
                explained[d].append(group)
    absorbs: dict[int, list[DeviceId]] = defaultdict(list)
    for c in cover.top:
        d = owner(c)
        if d != _NONE:
            absorbs[d].append(index.ids[c])

    predictions = []
    for d in sorted(explained):
        groups = explained[d]
        choice = chosen[d]
        reports = sorted((r for g in groups for r in g), key=lambda r: position[id(r)])
        score = choice.score
        if config.mode is Mode.RULES:
            score = len(groups) / index.total[d] if index.total[d] else 1.0
        predictions.append(
            Prediction(
                device=index.ids[d],
                report_ids=tuple(r.id for r in reports),
                callers=len(groups),
                customers=index.total[d],
                score=score,
                confidence=choice.confidence,
                reason=choice.reason,
                absorbs=tuple(absorbs.get(d, ())),
            )
        )
    # Single-premise requests in the order of their first report.
    single = [
        (position[id(r)], SinglePremise(r.service_point, r.transformer, (r.id,))) for r in unlocated
    ]
    single.extend(
        (
            position[id(group[0])],
            SinglePremise(group[0].service_point, index.ids[t], tuple(r.id for r in group)),
        )
        for t, group in lone
    )
    single.sort(key=lambda item: item[0])
    return RollupResult(
        predictions=tuple(predictions),
        single_premise=tuple(request for _, request in single),
        covered_reports=covered_reports,
        stale_report_ids=tuple(stale),
    )
