"""Trace suggestion (溯源): which service step most likely caused a complaint, read from the
linked outages', reports' and work orders' timelines. Pure: plain dataclasses in, a ranked
list out; the investigator confirms or corrects the suggestion.

Rules (each a policy number below):
- travel: a crew arrived after the arrival deadline (or has not arrived and it has passed);
- dispatch: an order waited longer than ``DISPATCH_WAIT`` for a crew, or was sent back
  (rejected) ``DISPATCH_BOUNCES`` times or more;
- repair: the restoration deadline was missed after the crew had arrived in time;
- information release: an ETR was missed by more than ``ETR_GRACE``, or an outage ran longer
  than ``ETR_MISSING_AFTER`` without any ETR;
- restoration: the customer was out longer than ``LONG_OUTAGE`` in total, or more than once;
- intake: the customer's reports were never tied to an outage or an order;
- conduct: the complaint's category is about staff conduct.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

DISPATCH_WAIT = timedelta(minutes=20)
DISPATCH_BOUNCES = 2
ETR_GRACE = timedelta(hours=1)
ETR_MISSING_AFTER = timedelta(hours=1)
LONG_OUTAGE = timedelta(hours=4)
CONDUCT_CATEGORIES = frozenset({"service_conduct"})


@dataclass(frozen=True)
class OrderFacts:
    order_id: int
    created_at: datetime
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    arrive_due_at: datetime | None = None
    restored_at: datetime | None = None
    restore_due_at: datetime | None = None
    rejections: int = 0
    first_dispatched_at: datetime | None = None


@dataclass(frozen=True)
class OutageFacts:
    outage_id: int
    started_at: datetime | None
    restored_at: datetime | None
    # Every ETR the outage announced, in order, as (announced_at, etr).
    etrs: tuple[tuple[datetime, datetime], ...] = ()
    # This customer's own interruption, when known.
    customer_started_at: datetime | None = None
    customer_ended_at: datetime | None = None


@dataclass(frozen=True)
class ReportFacts:
    report_id: int
    received_at: datetime
    linked: bool  # tied to an outage or a work order


@dataclass(frozen=True)
class TraceInput:
    category_code: str
    now: datetime
    orders: list[OrderFacts] = field(default_factory=list)
    outages: list[OutageFacts] = field(default_factory=list)
    reports: list[ReportFacts] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    step: str
    score: float
    reason: str
    evidence: dict[str, object]


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


_STEP_ORDER = ["intake", "dispatch", "travel", "repair", "restoration", "information", "conduct"]


def suggest(facts: TraceInput) -> list[Suggestion]:
    """Candidate steps, most likely first (ties: the earlier step in the service chain)."""
    out: list[Suggestion] = []
    if facts.category_code in CONDUCT_CATEGORIES:
        out.append(Suggestion("conduct", 3.0, "category is service conduct", {}))
    for o in facts.orders:
        out.extend(_order_suggestions(o, facts.now))
    out.extend(_outage_suggestions(facts))
    unlinked = [r for r in facts.reports if not r.linked]
    if unlinked and not facts.orders:
        out.append(
            Suggestion(
                "intake",
                2.0,
                "reports never tied to an outage or an order",
                {"reports": [r.report_id for r in unlinked]},
            )
        )
    # One suggestion per step, its strongest; strongest first.
    best: dict[str, Suggestion] = {}
    for s in out:
        if s.step not in best or s.score > best[s.step].score:
            best[s.step] = s
    return sorted(best.values(), key=lambda s: (-s.score, _STEP_ORDER.index(s.step)))


def _order_suggestions(o: OrderFacts, now: datetime) -> list[Suggestion]:
    """Dispatch, travel and repair: what one work order's timestamps point at."""
    out: list[Suggestion] = []
    first = o.first_dispatched_at or o.dispatched_at
    waited_until = first or (now if o.arrived_at is None else None)
    if waited_until is not None and waited_until - o.created_at > DISPATCH_WAIT:
        out.append(
            Suggestion(
                "dispatch",
                2.0 + min(_minutes(waited_until - o.created_at) / 60, 2),
                "waited for a crew",
                {"order": o.order_id, "minutes": _minutes(waited_until - o.created_at)},
            )
        )
    if o.rejections >= DISPATCH_BOUNCES:
        out.append(
            Suggestion(
                "dispatch",
                2.0,
                "sent back to dispatch repeatedly",
                {"order": o.order_id, "rejections": o.rejections},
            )
        )
    if o.arrive_due_at is not None:
        arrived = o.arrived_at or (now if now > o.arrive_due_at else None)
        if arrived is not None and arrived > o.arrive_due_at:
            late = arrived - o.arrive_due_at
            out.append(
                Suggestion(
                    "travel",
                    3.0 + min(_minutes(late) / 60, 2),
                    "crew arrived after the deadline",
                    {"order": o.order_id, "late_minutes": _minutes(late)},
                )
            )
    arrived_in_time = (
        o.arrived_at is not None and o.arrive_due_at is not None and o.arrived_at <= o.arrive_due_at
    )
    if o.restore_due_at is not None and arrived_in_time:
        restored = o.restored_at or (now if now > o.restore_due_at else None)
        if restored is not None and restored > o.restore_due_at:
            late = restored - o.restore_due_at
            out.append(
                Suggestion(
                    "repair",
                    2.5 + min(_minutes(late) / 120, 2),
                    "restoration deadline missed after a timely arrival",
                    {"order": o.order_id, "late_minutes": _minutes(late)},
                )
            )
    return out


def _outage_suggestions(facts: TraceInput) -> list[Suggestion]:
    """Information (ETRs missed or never given) and restoration (long or repeated)."""
    out: list[Suggestion] = []
    interruptions = 0
    total_out = timedelta()
    for g in facts.outages:
        end = g.restored_at or facts.now
        for announced_at, etr in g.etrs:
            # An ETR counts as missed if supply came back (or still is not back) more than
            # the grace after it, and it was announced before it expired.
            if announced_at <= etr and end - etr > ETR_GRACE:
                out.append(
                    Suggestion(
                        "information",
                        3.0 + min(_minutes(end - etr) / 120, 2),
                        "ETR missed by more than an hour",
                        {"outage": g.outage_id, "missed_minutes": _minutes(end - etr)},
                    )
                )
                break
        if not g.etrs and g.started_at is not None and end - g.started_at > ETR_MISSING_AFTER:
            out.append(
                Suggestion(
                    "information",
                    2.0,
                    "no ETR was given",
                    {"outage": g.outage_id, "minutes": _minutes(end - g.started_at)},
                )
            )
        c_start = g.customer_started_at or g.started_at
        c_end = g.customer_ended_at or end
        if c_start is not None:
            interruptions += 1
            total_out += max(c_end - c_start, timedelta())
    if total_out > LONG_OUTAGE or interruptions > 1:
        out.append(
            Suggestion(
                "restoration",
                1.5 + min(total_out / LONG_OUTAGE, 2) + (interruptions - 1) * 0.5,
                "long or repeated interruptions",
                {"interruptions": interruptions, "minutes": _minutes(total_out)},
            )
        )
    return out
