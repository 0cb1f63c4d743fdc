"""Settings of the roll-up engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """Which predictor :func:`rollup` runs."""

    LIKELIHOOD = "likelihood"
    RULES = "rules"


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
