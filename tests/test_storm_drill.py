"""The storm drill, small: a few hundred calls against production processes lose none.

Runs ``bench/storm_drill.py`` as the README documents it, on a small city (a scratch
PostgreSQL database and its own Redis db, gunicorn, a Celery worker per queue and beat), and
checks the figures it prints on its last line: every call acknowledged and saved, no fault
with two calls or more given two live repair orders, no map request failed. The pure storm
script (``bench/_drill_plan.py``) is tested on its own below.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._drill_plan import Customer, Fault, percentile, plan_storm  # noqa: E402

# A Redis db of its own (flushed by the drill); several checkouts on one server pick others.
DRILL_REDIS_DB = int(os.environ.get("DRILL_REDIS_DB", "15"))


def _city(n: int) -> dict[int, Customer]:
    return {
        i: Customer(i, f"0755{i:08d}", f"深圳市福田区福华路{i}号", 22.5, 114.0) for i in range(n)
    }


def test_plan_storm_sends_the_affected_calls_in_time_order_and_noise_only_from_supplied():
    customers = _city(2000)
    faults = [
        Fault("trip:A", "feeder_trip", 1, "A", list(range(0, 600))),
        Fault("fuse:B", "lateral", 2, "B", list(range(600, 640))),
        Fault("premise:C", "premise", None, "C", [1999]),
    ]
    plan = plan_storm(faults=faults, customers=customers, rng=random.Random(3), calls_wanted=300)
    minutes = [c.minute for c in plan.calls]
    assert minutes == sorted(minutes)
    assert all(0 <= m < plan.sim_minutes for m in minutes)
    assert 220 <= len(plan.calls) <= 380
    dark = set(range(0, 640)) | {1999}
    for call in plan.calls:
        if call.fault is None:
            assert call.customer.id not in dark
        else:
            fault = next(f for f in faults if f.key == call.fault)
            assert call.customer.id in fault.customers
            assert call.minute >= fault.start_minute
    assert any(c.fault == "premise:C" for c in plan.calls)  # a premise fault always calls
    trip_start = faults[0].start_minute
    assert trip_start <= 15  # the feeder trips come first


def test_plan_storm_call_in_follows_the_calls_wanted():
    customers = _city(3000)
    few = plan_storm(
        faults=[Fault("t", "feeder_trip", 1, "t", list(range(3000)))],
        customers=customers,
        rng=random.Random(1),
        calls_wanted=150,
    )
    many = plan_storm(
        faults=[Fault("t", "feeder_trip", 1, "t", list(range(3000)))],
        customers=customers,
        rng=random.Random(1),
        calls_wanted=1500,
    )
    assert few.call_in < many.call_in
    assert len(many.calls) > 5 * len(few.calls)


def test_percentile_by_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(101)], 0.99) == 99.0


@pytest.mark.worker
def test_a_small_storm_loses_no_call_and_gives_no_fault_two_orders():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    cmd = [
        sys.executable,
        "bench/storm_drill.py",
        "--service-points",
        "3000",
        "--feeders-per-grid",
        "1",
        "--calls",
        "300",
        "--minutes",
        "0.4",
        "--bare-seconds",
        "1",
        "--map-rate",
        "5",
        "--feeder-trips",
        "2",
        "--lateral-faults",
        "10",
        "--premise-faults",
        "3",
        "--settle",
        "40",
        "--single",
        "--redis-db",
        str(DRILL_REDIS_DB),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["calls_sent"] >= 50
    assert figures["lost_calls"] == 0
    assert figures["calls_saved"] == figures["calls_sent"]
    assert figures["duplicate_orders"] == 0
    assert figures["faults"] > 0
    assert figures["map_requests"] > 0
    assert figures["map_errors"] == 0
