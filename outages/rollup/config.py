"""Settings of the roll-up engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """Kinds of network element, as the fault mix counts them."""

    PREMISE = "premise"  # service drop, meter, in-home fault: one customer out
    TRANSFORMER = "transformer"
    LATERAL = "lateral"  # a fused lateral (or the fuse itself)
    SECTION = "section"  # a line section: its protective device upstream opens
    SWITCH = "switch"  # switch, recloser, breaker


@dataclass(frozen=True, slots=True)
class FaultMix:
    """How often each kind of element is the one that failed, as shares of reported faults.

    The engine turns the mix into a prior per element: a kind's share divided by the number
    of elements of that kind in the topology (a premise is one customer; a line section's
    fault takes out what its protective device feeds, so it adds to that device's prior).
    Shares need not sum to 1; they are normalised over the kinds the topology has.

    The defaults are *indicative*, not a published table. Utilities publish outage causes
    (weather, vegetation, animals, equipment) far more often than the element that failed,
    and we found no split by element kind that we could cite figure by figure. They follow
    the pattern that distribution reliability practice reports consistently (for example
    the event counts behind IEEE Std 1366 benchmarking and EPRI's distribution reliability
    studies): most sustained events are small, on service drops, distribution transformers
    and fused laterals, and few are on main-line sections or switching devices. Set the
    mix from the utility's own records (this system's closed outages by device kind) when
    they are available.
    """

    premise: float = 0.30
    transformer: float = 0.20
    lateral: float = 0.30
    section: float = 0.15
    switch: float = 0.05

    def __post_init__(self) -> None:
        shares = self.shares()
        if any(v < 0 for v in shares.values()) or sum(shares.values()) <= 0:
            raise ValueError("fault mix shares must be non-negative with a positive sum")

    def shares(self) -> dict[FaultKind, float]:
        """Share of each kind, as given (not normalised)."""
        return {
            FaultKind.PREMISE: self.premise,
            FaultKind.TRANSFORMER: self.transformer,
            FaultKind.LATERAL: self.lateral,
            FaultKind.SECTION: self.section,
            FaultKind.SWITCH: self.switch,
        }

    @classmethod
    def devices_only(cls) -> FaultMix:
        """No premise faults: every call means a device is out (the bench's first mix)."""
        return cls(premise=0.0, transformer=0.25, lateral=0.35, section=0.25, switch=0.15)

    @classmethod
    def half_premise(cls) -> FaultMix:
        """Half of the reported faults on a single premise, the rest as :meth:`devices_only`."""
        return cls(premise=0.5, transformer=0.125, lateral=0.175, section=0.125, switch=0.075)


class Mode(StrEnum):
    """Which predictor :func:`rollup` runs."""

    LIKELIHOOD = "likelihood"
    RULES = "rules"


@dataclass(frozen=True, slots=True)
class RollupConfig:
    """Tuning of the roll-up engine. The defaults are the day-to-day settings.

    ``window``: how long the calls of one fault keep arriving. Calls are grouped in time
    clusters (a silence longer than ``window / 2`` separates two clusters); a cluster whose
    latest call is older than ``now - window`` is stale, and so is any call older than
    ``now - 2 * window``. The window is thus anchored on the calls, not on the latest one.
    ``min_reports`` / ``transformer_share`` / ``rollup_children``: the rule thresholds.
    ``call_rate``: expected share of the customers of a faulted device who call in a window;
    ``call_rate_strength``: how sure that expectation is, in pseudo-customers (None: exact).
    ``background_rate``: chance that a customer with supply calls by mistake (wrong address,
    a flicker); premise faults are not noise, they come from ``fault_mix``.
    ``fault_prior``: chance that an average element has a reported fault in a window; with
    the mix it sets the cost of one more fault, i.e. how readily calls are split between
    several predictions, and how a lone call is read.
    ``noise_share``: unrelated calls that come with an event (flicker, a neighbour's fault),
    as a share of the calls, spread over the customers who still have supply.
    ``fault_mix``: how often each kind of element fails (:class:`FaultMix`).
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
    background_rate: float = 1e-5
    fault_prior: float = 1e-4
    noise_share: float = 0.02
    fault_mix: FaultMix = field(default_factory=FaultMix)
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
            "background_rate": 2e-5,
            "fault_prior": 1e-3,
        }
        values.update(overrides)
        return cls(**values)


DEFAULT_CONFIG = RollupConfig()
