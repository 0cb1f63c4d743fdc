"""From plain records of one or more days to the stored daily cells of every figure. No ORM:
the service reads the records through the other apps' selectors and stores the cells.

A cell is (day, figure, district, grid, crew, dimension) → (total, count); see
``dashboard.figures`` for how cells combine. Each record is attributed to the local day of
its start (an order's creation, a report's receipt, a call, an outage's start).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

SELF_SERVICE_CHANNELS = frozenset({"web", "app", "wechat"})
CUSTOMER_CHANNELS = SELF_SERVICE_CHANNELS | {"hotline"}
REPEAT_WINDOW = timedelta(hours=24)
# The figures stored per crew too (the drill-down from a grid to its crews).
CREW_FIGURES = frozenset(
    {"orders", "arrive_minutes", "restore_minutes", "arrive_sla", "restore_sla"}
)


@dataclass(frozen=True)
class OrderRecord:
    id: int
    created_at: datetime
    district_id: int | None
    grid_id: int | None
    crew_id: int | None
    crew_grid_id: int | None
    status: str
    dispatched_at: datetime | None = None
    accepted_at: datetime | None = None
    arrived_at: datetime | None = None
    restored_at: datetime | None = None
    completed_at: datetime | None = None
    arrive_due_at: datetime | None = None
    restore_due_at: datetime | None = None
    published_at: datetime | None = None
    claimed_at: datetime | None = None
    decisions: int = 0
    preemptions: int = 0
    priority: int | None = None
    station_id: int | None = None  # the crew's repair station


@dataclass(frozen=True)
class ReportRecord:
    received_at: datetime
    district_id: int | None
    grid_id: int | None
    channel: str
    status: str


@dataclass(frozen=True)
class CallRecord:
    id: int
    at: datetime
    agent_id: int | None
    caller_phone: str
    outage_id: int | None
    handling_seconds: int | None
    district_id: int | None
    grid_id: int | None


@dataclass(frozen=True)
class OutageRecord:
    started_at: datetime
    restored_at: datetime | None
    etr: datetime | None
    district_id: int | None
    grid_id: int | None
    category: str
    customers_affected: int


@dataclass(frozen=True)
class OutageTypeRecord:
    started_at: datetime
    district_id: int | None
    grid_id: int | None
    type_code: str


@dataclass(frozen=True)
class ComplaintRecord:
    received_at: datetime
    district_id: int | None
    grid_id: int | None
    category: str


CITY, DISTRICT, GRID, CREW = "city", "district", "grid", "crew"


@dataclass(frozen=True)
class CellKey:
    day: date
    figure: str
    level: str  # city, district, grid or crew: the rows one read needs are one level's
    district_id: int | None
    grid_id: int | None
    crew_id: int | None
    dimension: str


class Cells:
    """Accumulates (total, count) per cell key, at every level at once: the city, the
    district, the grid and (for the drill figures) the crew. A read then takes the rows of
    one level only, so the city's year is a few thousand rows whatever the city's size."""

    def __init__(self) -> None:
        self.values: dict[CellKey, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def add(
        self,
        figure: str,
        day: date,
        district_id: int | None,
        grid_id: int | None,
        total: float,
        count: float = 1,
        *,
        crew_id: int | None = None,
        dimension: str = "",
    ) -> None:
        keys = [
            CellKey(day, figure, CITY, None, None, None, dimension),
            CellKey(day, figure, DISTRICT, district_id, None, None, dimension),
            CellKey(day, figure, GRID, district_id, grid_id, None, dimension),
        ]
        if crew_id is not None and figure in CREW_FIGURES:
            keys.append(CellKey(day, figure, CREW, district_id, grid_id, crew_id, dimension))
        for key in keys:
            cell = self.values[key]
            cell[0] += total
            cell[1] += count

    def as_dict(self) -> dict[CellKey, tuple[float, float]]:
        return {k: (v[0], v[1]) for k, v in self.values.items()}


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _within(done: datetime | None, due: datetime | None, now: datetime) -> bool | None:
    """Met (True), missed (False) or not decided yet (None) for a deadline."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    return False if now > due else None


def add_orders(cells: Cells, orders: Iterable[OrderRecord], tz: tzinfo, now: datetime) -> None:
    """The repair and grab-pool figures of work orders."""
    for o in orders:
        day = o.created_at.astimezone(tz).date()

        def put(
            figure: str, total: float, count: float = 1, *, o: OrderRecord = o, day: date = day
        ) -> None:
            cells.add(figure, day, o.district_id, o.grid_id, total, count, crew_id=o.crew_id)

        put("orders", 1)
        for figure, start, end in (
            ("dispatch_minutes", o.created_at, o.dispatched_at or o.claimed_at),
            ("accept_minutes", o.dispatched_at, o.accepted_at),
            ("arrive_minutes", o.created_at, o.arrived_at),
            ("restore_minutes", o.created_at, o.restored_at),
            ("complete_minutes", o.created_at, o.completed_at),
            ("pool_claim_minutes", o.published_at, o.claimed_at),
        ):
            seconds = _seconds(start, end)
            if seconds is not None:
                put(figure, seconds)
        for figure, done, due in (
            ("arrive_sla", o.arrived_at, o.arrive_due_at),
            ("restore_sla", o.restored_at, o.restore_due_at),
        ):
            met = _within(done, due, now)
            if met is not None:
                put(figure, 1 if met else 0)
                # The same cases split by priority and by the crew's station.
                for split, value in (("priority", o.priority), ("station", o.station_id)):
                    if value is not None:
                        cells.add(
                            f"{figure}_{split}",
                            day,
                            o.district_id,
                            o.grid_id,
                            1 if met else 0,
                            dimension=str(value),
                        )
        if o.decisions > 1:
            put("redispatches", o.decisions - 1)
        if o.preemptions:
            put("preemptions", o.preemptions)
        if o.crew_id is not None and o.crew_grid_id is not None:
            put("cross_grid_share", 1 if o.crew_grid_id != o.grid_id else 0)
        put("duplicate_dispatch", 1 if o.status == "merged" else 0)
        if o.published_at is not None:
            put("pool_claim_share", 1 if o.claimed_at is not None else 0)
            if o.claimed_at is None and o.dispatched_at is not None:
                put("pool_expired", 1)


def add_reports(cells: Cells, reports: Iterable[ReportRecord], tz: tzinfo) -> None:
    """Reports by channel, the self-service share, reports merged into a known outage."""
    for r in reports:
        if r.channel not in CUSTOMER_CHANNELS:
            continue
        day = r.received_at.astimezone(tz).date()
        cells.add("reports", day, r.district_id, r.grid_id, 1, dimension=r.channel)
        self_service = 1 if r.channel in SELF_SERVICE_CHANNELS else 0
        cells.add("self_service_share", day, r.district_id, r.grid_id, self_service)
        if r.status == "merged":
            cells.add("merged_reports", day, r.district_id, r.grid_id, 1)


def add_calls(
    cells: Cells, calls: Iterable[CallRecord], tz: tzinfo, later: Iterable[CallRecord] = ()
) -> None:
    """First-call resolution and handling time per agent.

    ``later`` are calls after the computed days (up to 24 hours), so that a call late on the
    last day still sees a repeat the next morning.
    """
    calls = list(calls)
    by_caller: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for c in (*calls, *later):
        if c.outage_id is not None and c.caller_phone:
            by_caller[(c.caller_phone, c.outage_id)].append(c.at)
    for times in by_caller.values():
        times.sort()
    for c in calls:
        day = c.at.astimezone(tz).date()
        agent = str(c.agent_id) if c.agent_id is not None else ""
        if c.handling_seconds is not None:
            cells.add(
                "handling_seconds",
                day,
                c.district_id,
                c.grid_id,
                c.handling_seconds,
                dimension=agent,
            )
        if c.outage_id is None or not c.caller_phone:
            continue
        times = by_caller[(c.caller_phone, c.outage_id)]
        repeated = any(c.at < t <= c.at + REPEAT_WINDOW for t in times)
        cells.add("first_call_resolution", day, c.district_id, c.grid_id, 0 if repeated else 1)


def add_outages(cells: Cells, outages: Iterable[OutageRecord], tz: tzinfo) -> None:
    """Outage counts by category, customers affected, customer-minutes, ETR accuracy."""
    for o in outages:
        day = o.started_at.astimezone(tz).date()
        cells.add("outages", day, o.district_id, o.grid_id, 1, dimension=o.category)
        cells.add("customers_affected", day, o.district_id, o.grid_id, o.customers_affected)
        if o.restored_at is None:
            continue
        minutes = (o.restored_at - o.started_at).total_seconds() / 60
        cells.add("customer_minutes", day, o.district_id, o.grid_id, o.customers_affected * minutes)
        if o.etr is not None:
            cells.add("etr_accuracy", day, o.district_id, o.grid_id, int(o.restored_at <= o.etr))


def add_outage_types(cells: Cells, outages: Iterable[OutageTypeRecord], tz: tzinfo) -> None:
    """Outage counts by type (the 17), beside the counts by category."""
    for o in outages:
        day = o.started_at.astimezone(tz).date()
        cells.add("outage_types", day, o.district_id, o.grid_id, 1, dimension=o.type_code)


def add_complaints(cells: Cells, complaints: Iterable[ComplaintRecord], tz: tzinfo) -> None:
    for c in complaints:
        day = c.received_at.astimezone(tz).date()
        cells.add("complaints", day, c.district_id, c.grid_id, 1, dimension=c.category)
