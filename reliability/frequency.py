"""Frequent-outage counting (频繁停电): a pure engine, no ORM.

Takes one customer's interruption records as plain dataclasses and a ``Policy`` and returns
the customer's level (normal / warning / frequent) with its reasons and counts. The rules,
in order (defaults from Guangdong practice; every number is a field of ``Policy``):

1. An interruption of ``momentary_max`` (5 minutes) or less is momentary: not counted here
   (it counts for MAIFI). An interruption still in progress is measured up to ``now``.
2. Optional exclusions (off by default, recorded on the result): interruptions that began on
   a major-event day, interruptions caused outside the utility (customer-side faults) and
   single-premise faults.
3. Interruptions beginning less than ``merge_gap`` (6 hours) after the previous one ended
   merge into one; chains merge, overlapping and nested ones always merge (so overlapping
   outages of one customer are never counted twice). A merged interruption is planned only
   if all its parts were.
4. A merged interruption counts on the local date of its start, if that date lies inside the
   assessment period: from the period start (1 January of the as-of year by default) to the
   as-of date, both included. No window reaches back before the period start.
5. Frequent: more than ``frequent_period_over`` (5) in the period, or more than
   ``frequent_window_over`` (3) in any ``frequent_window_days`` (60) window of whole days,
   or more than ``frequent_planned_over`` (3) planned in the period.
6. Warning, when not frequent: between ``warning_period_min`` (4) and ``frequent_period_over``
   (5) in the period, or exactly ``n`` in the last ``d`` days for each ``(d, n)`` of
   ``warning_recent`` ((50, 3) and (30, 2)); "the last d days" ends on the as-of date.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

NORMAL = "normal"
WARNING = "warning"
FREQUENT = "frequent"
LEVEL_RANK = {NORMAL: 0, WARNING: 1, FREQUENT: 2}


class PeriodKind(StrEnum):
    CALENDAR_YEAR = "calendar_year"
    ROLLING_365 = "rolling_365"


@dataclass(frozen=True)
class Policy:
    """Every number and switch of the counting rules (the admin edits the stored copy)."""

    momentary_max: timedelta = timedelta(minutes=5)
    merge_gap: timedelta = timedelta(hours=6)
    period: PeriodKind = PeriodKind.CALENDAR_YEAR
    frequent_period_over: int = 5
    frequent_window_days: int = 60
    frequent_window_over: int = 3
    frequent_planned_over: int = 3
    warning_period_min: int = 4
    warning_recent: tuple[tuple[int, int], ...] = ((50, 3), (30, 2))
    exclude_major_event_days: bool = False
    exclude_customer_side: bool = False
    exclude_single_premise: bool = False
    timezone: str = "Asia/Shanghai"

    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    def period_start(self, as_of: date) -> date:
        if self.period == PeriodKind.ROLLING_365:
            return as_of - timedelta(days=364)
        return as_of.replace(month=1, day=1)

    def min_interruptions_for_status(self) -> int:
        """The fewest sustained records that can make any status other than normal.

        A full scan may skip customers with fewer records in the period (merging only
        lowers a count)."""
        candidates = [
            self.warning_period_min,
            self.frequent_period_over + 1,
            self.frequent_window_over + 1,
            self.frequent_planned_over + 1,
            *(n for _d, n in self.warning_recent),
        ]
        return max(1, min(candidates))

    def candidate_thresholds(self) -> tuple[int, tuple[tuple[int, int], ...]] | None:
        """A necessary condition for any level but normal, on raw records: at least
        ``period_min`` sustained records starting in the period, or at least ``n`` starting
        in the last ``d`` days for some ``(d, n)`` (days clipped to the period, both ends
        included). A full scan may skip every customer below all of these (they are normal)
        and count them in SQL without merging. None when no customer may be skipped (a
        policy that warns customers with no interruption at all).

        Proof. Take P the period start, A the as-of date, K the records ``assess`` keeps
        (sustained, not excluded, starting on or before A) and M the merged interruptions
        it counts (those whose day lies in [P, A]). Each m in M begins with its own first
        record r(m) in K (chains are disjoint, so r is one-to-one), and r(m) starts on
        m.day. r(m) is sustained, so the raw count (records starting on or after a day S
        and before A + 1, lasting more than ``momentary_max`` or still open, whatever
        ``now``) counts it whenever m.day >= S. So for any S >= P, the merged interruptions
        on or after S number at most raw(S): merging, exclusions and open records that
        ``now`` makes momentary only lower a count. Then, for a customer not normal:
        frequent by the period needs |M| > ``frequent_period_over``; by a window, more than
        ``frequent_window_over`` of M in one window; by planned ones, more than
        ``frequent_planned_over`` of M; each needs raw(P) at least that number plus one.
        A warning needs |M| >= ``warning_period_min``, so raw(P) >= it, or exactly n of M on
        or after max(P, A - d + 1), so raw(that day) >= n. The smallest of the period
        numbers is ``period_min``. Counting only records whose type counts in reliability
        would be tighter still; counting every type is what the proof needs.
        A customer with no record at all is normal unless ``warning_period_min`` or some n
        is 0 ("exactly 0 in the last d days"): then None.
        """
        if self.warning_period_min < 1 or any(n < 1 for _d, n in self.warning_recent):
            return None
        period_min = min(
            self.warning_period_min,
            self.frequent_period_over + 1,
            self.frequent_window_over + 1,
            self.frequent_planned_over + 1,
        )
        return period_min, tuple(self.warning_recent)

    def exclusions(self) -> list[str]:
        names = []
        if self.exclude_major_event_days:
            names.append("major_event_days")
        if self.exclude_customer_side:
            names.append("customer_side")
        if self.exclude_single_premise:
            names.append("single_premise")
        return names


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Record:
    """One customer's interruption; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    planned: bool = False
    customer_side: bool = False
    single_premise: bool = False
    ref: Hashable | None = None  # the source row (an interruption or outage id), for tracing


@dataclass(frozen=True, slots=True)
class Merged:
    """A counted interruption: one record or a merged chain of them."""

    start: datetime
    end: datetime | None
    planned: bool
    day: date
    parts: int
    refs: tuple[Hashable, ...] = ()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a level was given: ``code`` plus the numbers, rendered by ``reason_text``."""

    code: str  # period_over, window_over, planned_over, period_band, recent_exact
    count: int
    limit: int
    days: int | None = None
    window: tuple[date, date] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "count": self.count, "limit": self.limit}
        if self.days is not None:
            out["days"] = self.days
        if self.window is not None:
            out["window"] = [self.window[0].isoformat(), self.window[1].isoformat()]
        return out


@dataclass(frozen=True)
class Result:
    """One customer's level with its reasons, counts and the period assessed."""

    level: str
    reasons: tuple[Reason, ...]
    counts: dict[str, int]
    period_start: date
    as_of: date
    exclusions: tuple[str, ...] = ()
    interruptions: tuple[Merged, ...] = field(default=(), repr=False)

    def reason_texts(self) -> list[str]:
        return [reason_text(r) for r in self.reasons]


def _identity(message: str) -> str:
    return message


def reason_text(reason: Reason, gettext: Callable[[str], str] | None = None) -> str:
    """The reason in words a supervisor reads (Chinese first; pass Django's ``gettext``)."""
    _ = gettext or _default_gettext()
    n: dict[str, object] = {"count": reason.count, "limit": reason.limit, "days": reason.days}
    if reason.window:
        n["from"], n["to"] = reason.window[0].isoformat(), reason.window[1].isoformat()
    if reason.code == "period_over":
        return _("本周期停电 %(count)s 次，超过 %(limit)s 次") % n
    if reason.code == "window_over":
        return _("%(from)s 至 %(to)s 的 %(days)s 天内停电 %(count)s 次，超过 %(limit)s 次") % n
    if reason.code == "planned_over":
        return _("本周期计划停电 %(count)s 次，超过 %(limit)s 次") % n
    if reason.code == "period_band":
        return _("本周期停电 %(count)s 次（达到 %(limit)s 次即预警）") % n
    if reason.code == "recent_exact":
        return _("最近 %(days)s 天内停电 %(count)s 次") % n
    return reason.code


def _default_gettext() -> Callable[[str], str]:
    try:
        from django.utils.translation import gettext

        gettext("")  # settings may be unconfigured when used outside Django
    except Exception:
        return _identity
    return gettext


def sustained(record: Record, *, policy: Policy, now: datetime | None) -> bool:
    """Longer than the momentary limit (a record still open is measured up to ``now``)."""
    end = record.end if record.end is not None else now
    if end is None:
        return True
    return end - record.start > policy.momentary_max


def merge(records: Iterable[Record], *, policy: Policy) -> list[Merged]:
    """Merge one customer's records into counted interruptions, ordered by start.

    A record joins the chain before it when it begins less than ``merge_gap`` after the
    chain's latest end; an open record (no end) absorbs every record after it.
    """
    tz = policy.tz()
    ordered = sorted(records, key=lambda r: r.start)
    out: list[Merged] = []
    start: datetime | None = None
    end: datetime | None = None
    open_ended = False
    planned = True
    refs: list[Hashable] = []

    def close() -> None:
        assert start is not None
        out.append(
            Merged(
                start=start,
                end=None if open_ended else end,
                planned=planned,
                day=start.astimezone(tz).date(),
                parts=len(refs),
                refs=tuple(refs),
            )
        )

    for rec in ordered:
        joins = start is not None and (
            open_ended or (end is not None and rec.start - end < policy.merge_gap)
        )
        if not joins:
            if start is not None:
                close()
            start, end, open_ended, planned, refs = rec.start, rec.end, rec.end is None, True, []
        else:
            if rec.end is None:
                open_ended = True
            elif end is None or rec.end > end:
                end = rec.end
        planned = planned and rec.planned
        refs.append(rec.ref)
    if start is not None:
        close()
    return out


def _max_in_window(days: Sequence[date], width: int) -> tuple[int, tuple[date, date] | None]:
    """The most days of ``days`` (sorted, repeats allowed) inside any ``width``-day window."""
    best, best_window = 0, None
    lo = 0
    for hi, day in enumerate(days):
        while (day - days[lo]).days >= width:
            lo += 1
        if hi - lo + 1 > best:
            best, best_window = hi - lo + 1, (days[lo], days[hi])
    return best, best_window


def assess(
    records: Iterable[Record],
    *,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    major_event_days: frozenset[date] = frozenset(),
    now: datetime | None = None,
) -> Result:
    """One customer's level on ``as_of`` from all its records (any period; extra are ignored).

    Records that begin after the as-of date are ignored. ``now`` measures records still open
    (the end of the as-of date when not given).
    """
    if now is None:
        now = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=policy.tz())
    period_start = policy.period_start(as_of)
    kept, momentary, excluded = _kept(
        records,
        as_of=as_of,
        period_start=period_start,
        policy=policy,
        major_event_days=major_event_days,
        now=now,
    )
    merged = [m for m in merge(kept, policy=policy) if period_start <= m.day <= as_of]
    counts, window = _counts(merged, as_of=as_of, period_start=period_start, policy=policy)
    counts.update(momentary=momentary, records=sum(m.parts for m in merged), excluded=excluded)
    level, reasons = _level(counts, window, policy=policy)
    return Result(
        level=level,
        reasons=tuple(reasons),
        counts=counts,
        period_start=period_start,
        as_of=as_of,
        exclusions=tuple(policy.exclusions()),
        interruptions=tuple(merged),
    )


def _kept(
    records: Iterable[Record],
    *,
    as_of: date,
    period_start: date,
    policy: Policy,
    major_event_days: frozenset[date],
    now: datetime,
) -> tuple[list[Record], int, int]:
    """The records that count (rules 1 and 2), with how many were momentary (in the period)
    and how many excluded."""
    tz = policy.tz()
    momentary = excluded = 0
    kept: list[Record] = []
    for rec in records:
        day = rec.start.astimezone(tz).date()
        if day > as_of:
            continue
        if not sustained(rec, policy=policy, now=now):
            if period_start <= day:
                momentary += 1
            continue
        if (
            (policy.exclude_major_event_days and day in major_event_days)
            or (policy.exclude_customer_side and rec.customer_side)
            or (policy.exclude_single_premise and rec.single_premise)
        ):
            excluded += 1
            continue
        kept.append(rec)
    return kept, momentary, excluded


def _counts(
    merged: Sequence[Merged], *, as_of: date, period_start: date, policy: Policy
) -> tuple[dict[str, int], tuple[date, date] | None]:
    """The counts of the counted interruptions (rules 4 to 6), and the busiest window."""
    days = [m.day for m in merged]
    total = len(merged)
    planned = sum(1 for m in merged if m.planned)
    window_max, window = _max_in_window(days, policy.frequent_window_days)
    recent: dict[int, int] = {}
    for d, _n in policy.warning_recent:
        since = max(as_of - timedelta(days=d - 1), period_start)
        recent[d] = sum(1 for day in days if day >= since)
    counts: dict[str, int] = {
        "period": total,
        "planned": planned,
        "fault": total - planned,
        f"max_{policy.frequent_window_days}_days": window_max,
        **{f"last_{d}_days": n for d, n in recent.items()},
    }
    return counts, window


def _level(
    counts: dict[str, int], window: tuple[date, date] | None, *, policy: Policy
) -> tuple[str, list[Reason]]:
    """The level and its reasons from the counts (rules 5 and 6)."""
    total, planned = counts["period"], counts["planned"]
    window_max = counts[f"max_{policy.frequent_window_days}_days"]
    frequent: list[Reason] = []
    if total > policy.frequent_period_over:
        frequent.append(Reason("period_over", total, policy.frequent_period_over))
    if window_max > policy.frequent_window_over:
        frequent.append(
            Reason(
                "window_over",
                window_max,
                policy.frequent_window_over,
                days=policy.frequent_window_days,
                window=window,
            )
        )
    if planned > policy.frequent_planned_over:
        frequent.append(Reason("planned_over", planned, policy.frequent_planned_over))
    if frequent:
        return FREQUENT, frequent
    warning: list[Reason] = []
    if policy.warning_period_min <= total <= policy.frequent_period_over:
        warning.append(Reason("period_band", total, policy.warning_period_min))
    for d, n in policy.warning_recent:
        if counts[f"last_{d}_days"] == n:
            warning.append(Reason("recent_exact", n, n, days=d))
    if warning:
        return WARNING, warning
    return NORMAL, []


def assess_many(
    records: Iterable[tuple[Hashable, Record]],
    *,
    as_of: date,
    policy: Policy = DEFAULT_POLICY,
    major_event_days: frozenset[date] = frozenset(),
    now: datetime | None = None,
) -> dict[Hashable, Result]:
    """``assess`` for many customers: ``records`` are ``(customer, record)`` pairs."""
    by_customer: dict[Hashable, list[Record]] = {}
    for customer, rec in records:
        by_customer.setdefault(customer, []).append(rec)
    return {
        customer: assess(
            recs, as_of=as_of, policy=policy, major_event_days=major_event_days, now=now
        )
        for customer, recs in by_customer.items()
    }


def tally(results: Iterable[Result]) -> dict[str, int]:
    """How many results at each level."""
    out = {FREQUENT: 0, WARNING: 0, NORMAL: 0}
    for r in results:
        out[r.level] += 1
    return out
