"""A year of demo history for the dashboard: repair orders along their lifecycle, customers'
reports by channel, hotline calls with handling times. No ORM: plain rows that
``seed_demo_statistics`` writes in bulk.

The story the dashboard tells on the first run:

- a storm week (typhoon season, about four months ago): five times the orders, slow arrivals,
  SLA misses, many hotline calls;
- a grid that improved: its arrival time falls from about 75 to about 30 minutes over the year;
- a slow crew: 40 minutes later to arrive and an hour later to restore than its peers;
- over the year the self-service share of reports rises and handling time falls.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

ARRIVE_DUE = timedelta(minutes=45)
RESTORE_DUE = timedelta(minutes=180)


@dataclass(frozen=True)
class GridInfo:
    id: int
    district_id: int
    crew_ids: tuple[int, ...]


@dataclass
class Plan:
    orders: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (target idx, row)
    reports: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)


def storm_week(today: date) -> tuple[date, date]:
    """The Monday-to-Sunday week about 120 days before ``today``."""
    day = today - timedelta(days=120)
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def _minutes(rng: random.Random, mean: float) -> timedelta:
    return timedelta(minutes=max(3.0, rng.gammavariate(4.0, mean / 4.0)))


def _order(
    rng: random.Random, g: GridInfo, crew: int, created: datetime, arrive_mean: float, slow: bool
) -> dict[str, Any]:
    pooled = rng.random() < 0.3
    claimed = pooled and rng.random() < 0.8
    published = created + timedelta(minutes=1) if pooled else None
    if claimed:
        dispatched = created + timedelta(minutes=1) + _minutes(rng, 3)
    else:
        dispatched = created + _minutes(rng, 5) + (timedelta(minutes=5) if pooled else timedelta())
    arrived = created + _minutes(rng, arrive_mean + (40 if slow else 0))
    arrived = max(arrived, dispatched + timedelta(minutes=2))
    restored = arrived + _minutes(rng, 80 + (60 if slow else 0))
    completed = restored + timedelta(minutes=rng.randint(5, 20))
    return {
        "created_at": created,
        "grid_id": g.id,
        "district_id": g.district_id,
        "crew_id": crew,
        "published_at": published,
        "claimed_at": dispatched if claimed else None,
        "dispatched_at": dispatched,
        "accepted_at": dispatched + timedelta(minutes=rng.randint(1, 4)),
        "arrived_at": arrived,
        "restored_at": restored,
        "completed_at": completed,
        "closed_at": completed + timedelta(hours=1),
        "arrive_due_at": created + ARRIVE_DUE,
        "restore_due_at": created + RESTORE_DUE,
    }


def plan_history(
    *,
    grids: list[GridInfo],
    agents: list[int],
    outages_by_day: dict[date, list[int]],
    today: date,
    tz: tzinfo,
    days: int = 365,
    orders_per_grid_day: float = 0.3,
    seed: int = 2026,
) -> Plan:
    """Rows for the ``days`` days before ``today``."""
    rng = random.Random(seed)
    plan = Plan()
    storm = storm_week(today)
    improved, slow_crew = grids[0].id, grids[min(1, len(grids) - 1)].crew_ids[0]
    for n in range(days, 0, -1):
        day = today - timedelta(days=n)
        progress = 1 - n / days  # 0 a year ago, 1 yesterday
        in_storm = storm[0] <= day <= storm[1]
        rate = orders_per_grid_day * (5 if in_storm else 1)
        for g in grids:
            for _ in range(_poisson(rng, rate)):
                created = datetime.combine(day, time(rng.randint(6, 22), rng.randint(0, 59)), tz)
                crew = (
                    rng.choice(g.crew_ids)
                    if rng.random() < 0.92
                    else rng.choice(grids[rng.randrange(len(grids))].crew_ids)
                )
                mean = 75 - 45 * progress if g.id == improved else 38
                mean *= 1.8 if in_storm else 1
                row = _order(rng, g, crew, created, mean, crew == slow_crew)
                if plan.orders and rng.random() < 0.03:
                    plan.duplicates.append((len(plan.orders) - 1, row))
                else:
                    plan.orders.append(row)
                _reports_and_calls(rng, plan, row, progress, agents, outages_by_day.get(day, []))
    return plan


def _poisson(rng: random.Random, mean: float) -> int:
    n, limit, p = 0, pow(2.718281828459045, -mean), rng.random()
    while p > limit:
        n += 1
        p *= rng.random()
    return n


def _reports_and_calls(
    rng: random.Random,
    plan: Plan,
    order: dict[str, Any],
    progress: float,
    agents: list[int],
    outages: list[int],
) -> None:
    """One or two reports for the order; hotline ones come with a call."""
    self_service = 0.25 + 0.3 * progress
    for _ in range(rng.randint(1, 2)):
        at = order["created_at"] - timedelta(minutes=rng.randint(1, 20))
        if rng.random() < self_service:
            channel = rng.choice(("web", "app", "wechat", "wechat"))
        else:
            channel = "hotline"
        plan.reports.append(
            {
                "received_at": at,
                "channel": channel,
                "status": "merged" if rng.random() < 0.25 else "closed",
            }
        )
        if channel != "hotline" or not agents:
            continue
        phone = f"13{rng.randint(100000000, 999999999)}"
        outage = rng.choice(outages) if outages and rng.random() < 0.6 else None
        handling = int(rng.gauss(175 - 25 * progress, 30))
        plan.calls.append(
            {
                "at": at,
                "agent_id": rng.choice(agents),
                "caller_phone": phone,
                "outage_id": outage,
                "handling_seconds": max(30, handling),
            }
        )
        if outage is not None and rng.random() < 0.18 - 0.08 * progress:
            plan.calls.append(
                {
                    "at": at + timedelta(hours=rng.randint(1, 6)),
                    "agent_id": rng.choice(agents),
                    "caller_phone": phone,
                    "outage_id": outage,
                    "handling_seconds": max(30, handling - 20),
                }
            )
