"""Reliability indices (IEEE 1366): a pure engine, no ORM.

Definitions, for a period and a set of ``customers_served`` (N):

- an interruption is *sustained* when it lasts longer than the threshold (5 minutes in
  IEEE 1366, 3 minutes in China's DL/T 836), otherwise *momentary*;
- SAIFI = sustained customer interruptions / N;
- SAIDI = sustained customer minutes of interruption / N (minutes);
- CAIDI = SAIDI / SAIFI (minutes; None when nothing was interrupted);
- CAIFI = sustained customer interruptions / distinct customers interrupted;
- CEMI-n = customers with more than n sustained interruptions / N;
- MAIFI = momentary customer interruptions / N;
- ASAI = 1 - customer hours interrupted / (N x hours in the period).

Per-customer records of one customer that overlap are merged first (one customer cannot be
interrupted twice at once). Major-event days come from the 2.5-beta method
(``major_event_threshold``): the threshold is exp(alpha + 2.5 beta) of the natural logs of the
non-zero daily SAIDI values of the history (at least a year of it); days above it are
major-event days.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

IEEE_THRESHOLD = timedelta(minutes=5)
DLT836_THRESHOLD = timedelta(minutes=3)
MIN_HISTORY_DAYS = 365
BETA_MULTIPLIER = 2.5


@dataclass(frozen=True)
class Event:
    """An outage event as recorded at event level: how many customers, from when to when."""

    start: datetime
    end: datetime
    customers: int
    planned: bool = False


@dataclass(frozen=True)
class CustomerInterruption:
    """One customer's interruption."""

    customer: Hashable
    start: datetime
    end: datetime
    planned: bool = False


@dataclass(frozen=True)
class Totals:
    """Additive sums from which the indices follow; daily rows store exactly these."""

    customer_interruptions: int = 0
    customer_minutes: float = 0.0
    momentary_interruptions: int = 0
    sustained_events: int = 0
    momentary_events: int = 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.customer_interruptions + other.customer_interruptions,
            self.customer_minutes + other.customer_minutes,
            self.momentary_interruptions + other.momentary_interruptions,
            self.sustained_events + other.sustained_events,
            self.momentary_events + other.momentary_events,
        )


@dataclass(frozen=True)
class Indices:
    """The indices of one scope and period (None where undefined or not computable)."""

    customers_served: int
    SAIFI: float
    SAIDI: float
    CAIDI: float | None
    MAIFI: float
    CAIFI: float | None = None
    CEMI: dict[int, float] | None = None
    ASAI: float | None = None
    totals: Totals = field(default_factory=Totals)

    def as_dict(self, digits: int = 6) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "customers_served": self.customers_served,
            "SAIFI": r(self.SAIFI),
            "SAIDI": r(self.SAIDI),
            "CAIDI": r(self.CAIDI),
            "CAIFI": r(self.CAIFI),
            "CEMI": None if self.CEMI is None else {str(n): r(v) for n, v in self.CEMI.items()},
            "MAIFI": r(self.MAIFI),
            "ASAI": r(self.ASAI),
            "customer_interruptions": self.totals.customer_interruptions,
            "customer_minutes": round(self.totals.customer_minutes, 3),
            "momentary_interruptions": self.totals.momentary_interruptions,
        }


def minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def is_sustained(start: datetime, end: datetime, threshold: timedelta) -> bool:
    return end - start > threshold


def event_totals(events: Iterable[Event], *, threshold: timedelta = IEEE_THRESHOLD) -> Totals:
    """Sums over event-level records."""
    ci = mi = se = me = 0
    cmi = 0.0
    for ev in events:
        if is_sustained(ev.start, ev.end, threshold):
            ci += ev.customers
            cmi += ev.customers * minutes(ev.start, ev.end)
            se += 1
        else:
            mi += ev.customers
            me += 1
    return Totals(ci, cmi, mi, se, me)


def from_totals(
    totals: Totals,
    *,
    customers_served: int,
    customers_interrupted: int | None = None,
    cemi_counts: Mapping[int, int] | None = None,
    period_hours: float | None = None,
) -> Indices:
    """The indices from additive totals (CAIFI, CEMI and ASAI only when their inputs are given)."""
    if customers_served <= 0:
        raise ValueError("customers_served must be positive")
    n = customers_served
    saifi = totals.customer_interruptions / n
    saidi = totals.customer_minutes / n
    caidi = saidi / saifi if saifi else None
    caifi = None
    if customers_interrupted is not None:
        caifi = (
            totals.customer_interruptions / customers_interrupted if customers_interrupted else 0.0
        )
    cemi = None if cemi_counts is None else {k: v / n for k, v in sorted(cemi_counts.items())}
    asai = None
    if period_hours:
        asai = 1.0 - (totals.customer_minutes / 60.0) / (n * period_hours)
    return Indices(
        customers_served=n,
        SAIFI=saifi,
        SAIDI=saidi,
        CAIDI=caidi,
        MAIFI=totals.momentary_interruptions / n,
        CAIFI=caifi,
        CEMI=cemi,
        ASAI=asai,
        totals=totals,
    )


def from_events(
    events: Iterable[Event],
    *,
    customers_served: int,
    threshold: timedelta = IEEE_THRESHOLD,
    period_hours: float | None = None,
) -> Indices:
    """Event-level indices. CAIFI and CEMI need to know who was interrupted: left None."""
    return from_totals(
        event_totals(events, threshold=threshold),
        customers_served=customers_served,
        period_hours=period_hours,
    )


def merge_overlaps(records: Iterable[CustomerInterruption]) -> list[CustomerInterruption]:
    """Per customer, overlapping or nested records become one (planned only if all were)."""
    by_customer: dict[Hashable, list[CustomerInterruption]] = defaultdict(list)
    for rec in records:
        by_customer[rec.customer].append(rec)
    out: list[CustomerInterruption] = []
    for customer, recs in by_customer.items():
        recs.sort(key=lambda r: r.start)
        cur = recs[0]
        for rec in recs[1:]:
            if rec.start < cur.end:
                cur = CustomerInterruption(
                    customer, cur.start, max(cur.end, rec.end), cur.planned and rec.planned
                )
            else:
                out.append(cur)
                cur = rec
        out.append(cur)
    return out


def from_interruptions(
    records: Iterable[CustomerInterruption],
    *,
    customers_served: int,
    threshold: timedelta = IEEE_THRESHOLD,
    cemi_n: Sequence[int] = (1, 2, 3, 4, 5),
    period_hours: float | None = None,
) -> Indices:
    """Indices from per-customer records, CAIFI and CEMI-n included."""
    merged = merge_overlaps(records)
    per_customer: dict[Hashable, int] = defaultdict(int)
    ci = mi = 0
    cmi = 0.0
    for rec in merged:
        if is_sustained(rec.start, rec.end, threshold):
            ci += 1
            cmi += minutes(rec.start, rec.end)
            per_customer[rec.customer] += 1
        else:
            mi += 1
    cemi = {n: sum(1 for c in per_customer.values() if c > n) for n in cemi_n}
    return from_totals(
        Totals(ci, cmi, mi, ci, mi),
        customers_served=customers_served,
        customers_interrupted=len(per_customer),
        cemi_counts=cemi,
        period_hours=period_hours,
    )


def daily_totals(
    records: Iterable[CustomerInterruption],
    *,
    tz: tzinfo,
    threshold: timedelta = IEEE_THRESHOLD,
) -> dict[tuple[date, bool], Totals]:
    """Totals per (local start date, planned), after merging each customer's overlaps.

    An interruption is booked on the day it starts, with its whole duration (IEEE 1366
    assigns an event to the day it begins).
    """
    out: dict[tuple[date, bool], Totals] = defaultdict(Totals)
    for rec in merge_overlaps(records):
        key = (rec.start.astimezone(tz).date(), rec.planned)
        if is_sustained(rec.start, rec.end, threshold):
            out[key] = out[key] + Totals(1, minutes(rec.start, rec.end), 0, 1, 0)
        else:
            out[key] = out[key] + Totals(0, 0.0, 1, 0, 1)
    return dict(out)


def major_event_threshold(
    daily_saidi: Mapping[date, float], *, min_days: int = MIN_HISTORY_DAYS
) -> float | None:
    """T_MED by the 2.5-beta method, or None with less than ``min_days`` of history.

    ``daily_saidi`` holds every day of the history (zeros included: they count towards its
    length but, having no logarithm, not towards alpha and beta).
    """
    if not daily_saidi:
        return None
    span = (max(daily_saidi) - min(daily_saidi)).days + 1
    if span < min_days:
        return None
    logs = [math.log(v) for v in daily_saidi.values() if v > 0]
    if len(logs) < 2:
        return None
    alpha = statistics.fmean(logs)
    beta = statistics.stdev(logs)
    return math.exp(alpha + BETA_MULTIPLIER * beta)


def major_event_days(
    daily_saidi: Mapping[date, float], *, threshold: float | None
) -> frozenset[date]:
    """The days whose SAIDI exceeds T_MED."""
    if threshold is None:
        return frozenset()
    return frozenset(d for d, v in daily_saidi.items() if v > threshold)
