"""The storm drill's script: which elements fail, who calls, when and through which channel.

Plain Python (no ORM): ``plan_storm`` takes the city's network as plain rows (the drill reads
them from the database) and a seeded random generator, and returns the faults and the calls
in simulated minutes from the storm's start. The drill compresses simulated time into wall
time and sends the calls; afterwards it checks the faults against what the system found.

The storm, as the issue describes a typhoon's:
- a few feeder trips (the feeder head breaker; a SCADA alarm is sent for each as well),
- dozens of lateral fuse and transformer faults (no telemetry: only calls tell of them),
- lone premise faults (one customer's service drop),
starting over the first ``onset_minutes`` (feeder trips first: the wind peaks early);
every affected customer calls with probability ``call_in`` after an exponential delay (mean
``mean_delay_minutes``, most calls in the first half hour), some call again, and customers
who still have power call about flicker or a neighbour's dark street (noise).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

CHANNELS = (("hotline", 0.45), ("web", 0.4), ("app", 0.15))


@dataclass(frozen=True)
class Customer:
    id: int
    account_no: str
    address: str
    lat: float
    lng: float


@dataclass
class Fault:
    """One failed element; ``equivalent`` are the device ids with exactly its customers."""

    key: str
    kind: str  # feeder_trip | lateral | premise
    device_id: int | None
    device_code: str
    customers: list[int]
    equivalent: set[int] = field(default_factory=set)
    start_minute: float = 0.0


@dataclass(frozen=True)
class Call:
    minute: float  # simulated minutes from the storm's start
    customer: Customer
    channel: str
    fault: str | None  # the fault's key; None for a noise call
    symptom: str
    repeat: bool = False


@dataclass
class StormPlan:
    faults: list[Fault]
    calls: list[Call]
    call_in: float
    sim_minutes: float


def _channel(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for name, share in CHANNELS:
        acc += share
        if x < acc:
            return name
    return CHANNELS[-1][0]


def plan_storm(
    *,
    faults: list[Fault],
    customers: dict[int, Customer],
    rng: random.Random,
    calls_wanted: int,
    sim_minutes: float = 120.0,
    onset_minutes: float = 60.0,
    mean_delay_minutes: float = 10.0,
    repeat_share: float = 0.08,
    noise_share: float = 0.06,
) -> StormPlan:
    """Start times for ``faults`` and the calls, about ``calls_wanted`` of them in all."""
    trips = [f for f in faults if f.kind == "feeder_trip"]
    others = [f for f in faults if f.kind != "feeder_trip"]
    for f in trips:
        f.start_minute = rng.uniform(0, onset_minutes / 4)
    for f in others:
        f.start_minute = rng.uniform(0, onset_minutes)
    affected = sum(len(f.customers) for f in faults if f.kind != "premise")
    premise = sum(1 for f in faults if f.kind == "premise")
    per_call = 1 + repeat_share + noise_share
    call_in = min(1.0, max(0.01, (calls_wanted / per_call - premise) / max(affected, 1)))
    calls: list[Call] = []
    for f in faults:
        p = 1.0 if f.kind == "premise" else call_in
        for cid in f.customers:
            if rng.random() >= p:
                continue
            minute = f.start_minute + rng.expovariate(1 / mean_delay_minutes)
            if minute >= sim_minutes:
                continue
            c = customers[cid]
            calls.append(Call(minute, c, _channel(rng), f.key, "no_power"))
            if rng.random() < repeat_share:
                again = minute + rng.uniform(5, 25)
                if again < sim_minutes:
                    calls.append(Call(again, c, _channel(rng), f.key, "no_power", repeat=True))
    dark = {cid for f in faults for cid in f.customers}
    supplied = [cid for cid in customers if cid not in dark]
    for _ in range(int(len(calls) * noise_share)):
        if not supplied:
            break
        c = customers[rng.choice(supplied)]
        symptom = rng.choice(("flicker", "flicker", "no_power", "partial_power"))
        calls.append(Call(rng.uniform(0, sim_minutes), c, _channel(rng), None, symptom))
    calls.sort(key=lambda c: c.minute)
    return StormPlan(faults=faults, calls=calls, call_in=call_in, sim_minutes=sim_minutes)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q * (len(ordered) - 1)))))
    return ordered[k]
