"""Plain values in and out of the roll-up engine: reports, predictions, the result."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DeviceId = Hashable
ReportId = Hashable
ServicePointId = Hashable


class Reason(StrEnum):
    """Why a device was predicted (a stable code; the UI translates it)."""

    MIN_REPORTS = "min_reports"
    CUSTOMER_SHARE = "customer_share"
    CHILDREN = "children"
    LIKELIHOOD = "likelihood"


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
    ``stale_report_ids``: reports whose time cluster ended before the window, not used.
    ``future_report_ids``: reports dated after ``now``, ignored (a clock is wrong somewhere).
    ``duplicate_reports``: how many reports were given again (same id) and counted once.
    """

    predictions: tuple[Prediction, ...]
    single_premise: tuple[SinglePremise, ...]
    covered_reports: Mapping[ReportId, DeviceId]
    stale_report_ids: tuple[ReportId, ...]
    future_report_ids: tuple[ReportId, ...] = ()
    duplicate_reports: int = 0
