"""IEEE 1366 indices and the 2.5-beta method (pure), and ``manage.py reliability_indices``."""

import csv
import json
import math
import random
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from reliability import indices as ix
from reliability.tests import bchydro

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 1, 8, tzinfo=TZ)


def ev(minutes, customers, offset_h=0):
    start = T0 + timedelta(hours=offset_h)
    return ix.Event(start, start + timedelta(minutes=minutes), customers)


def test_event_level_indices_by_hand():
    # 100 customers for 60 min, 50 for 30 min, 200 for 5 min (momentary at the IEEE threshold)
    events = [ev(60, 100), ev(30, 50, 5), ev(5, 200, 10)]
    r = ix.from_events(events, customers_served=1000)
    assert pytest.approx(150 / 1000) == r.SAIFI
    assert pytest.approx((6000 + 1500) / 1000) == r.SAIDI
    assert pytest.approx(7500 / 150) == r.CAIDI
    assert pytest.approx(200 / 1000) == r.MAIFI
    assert r.CAIFI is None
    assert r.CEMI is None


def test_threshold_setting_moves_the_boundary():
    events = [ev(4, 10)]
    assert ix.from_events(events, customers_served=10).SAIFI == 0
    dlt = ix.from_events(events, customers_served=10, threshold=ix.DLT836_THRESHOLD)
    assert dlt.SAIFI == 1
    assert dlt.MAIFI == 0


def test_caidi_is_undefined_without_interruptions():
    assert ix.from_events([], customers_served=10).CAIDI is None


def ci(customer, start_h, minutes, planned=False):
    start = T0 + timedelta(hours=start_h)
    return ix.CustomerInterruption(customer, start, start + timedelta(minutes=minutes), planned)


def test_customer_level_indices_merge_overlaps_and_give_caifi_cemi_asai():
    records = [
        ci("a", 0, 120),
        ci("a", 1, 30),  # nested in the first: not a second interruption
        ci("a", 48, 60),
        ci("a", 96, 60),
        ci("b", 0, 60),
        ci("c", 5, 3),  # momentary
    ]
    r = ix.from_interruptions(records, customers_served=10, period_hours=24 * 30)
    assert r.totals.customer_interruptions == 4
    assert pytest.approx(0.4) == r.SAIFI
    assert pytest.approx((120 + 60 + 60 + 60) / 10) == r.SAIDI
    assert pytest.approx(4 / 2) == r.CAIFI
    assert {1: pytest.approx(0.1), 2: pytest.approx(0.1), 3: 0.0, 4: 0.0, 5: 0.0} == r.CEMI
    assert pytest.approx(0.1) == r.MAIFI
    assert pytest.approx(1 - (300 / 60) / (10 * 720)) == r.ASAI


def test_daily_totals_add_up_to_the_period():
    rng = random.Random(7)
    records = [
        ci(
            f"c{rng.randrange(50)}",
            rng.uniform(0, 24 * 60),
            rng.uniform(1, 300),
            rng.random() < 0.3,
        )
        for _ in range(400)
    ]
    daily = ix.daily_totals(records, tz=TZ)
    summed = sum(daily.values(), ix.Totals())
    whole = ix.from_interruptions(records, customers_served=50)
    assert summed.customer_interruptions == whole.totals.customer_interruptions
    assert summed.customer_minutes == pytest.approx(whole.totals.customer_minutes)
    assert summed.momentary_interruptions == whole.totals.momentary_interruptions
    planned = sum(t.customer_interruptions for (d, p), t in daily.items() if p)
    assert 0 < planned < summed.customer_interruptions


def test_two_and_a_half_beta():
    rng = random.Random(3)
    start = date(2025, 1, 1)
    daily = {start + timedelta(days=i): math.exp(rng.gauss(0.5, 0.8)) for i in range(365)}
    storm = start + timedelta(days=200)
    daily[storm] = 500.0
    daily[start + timedelta(days=10)] = 0.0
    t_med = ix.major_event_threshold(daily)
    logs = [math.log(v) for v in daily.values() if v > 0]
    mean = sum(logs) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    assert t_med == pytest.approx(math.exp(mean + 2.5 * sd))
    assert storm in ix.major_event_days(daily, threshold=t_med)
    # less than a year of history: no threshold, no major-event days
    short = {d: v for d, v in daily.items() if d < start + timedelta(days=300)}
    assert ix.major_event_threshold(short) is None
    assert ix.major_event_days(short, threshold=None) == frozenset()


# --- the command ---------------------------------------------------------------------------


def run(path, customers=1000, threshold=None):
    out, err = StringIO(), StringIO()
    args = ["reliability_indices", "--events", str(path), "--customers", str(customers)]
    if threshold is not None:
        args += ["--threshold-minutes", str(threshold)]
    call_command(*args, stdout=out, stderr=err)
    return json.loads(out.getvalue())


def test_command_prints_the_contract(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(
        "start,end,customers\n"
        "2026-03-01T08:00:00+08:00,2026-03-01T09:00:00+08:00,100\n"
        "2026-03-01T10:00:00+08:00,2026-03-01T10:04:00+08:00,40\n"
    )
    data = run(path)
    assert data["SAIFI"] == pytest.approx(0.1)
    assert data["SAIDI"] == pytest.approx(6.0)
    assert data["CAIDI"] == pytest.approx(60.0)
    assert data["MAIFI"] == pytest.approx(0.04)
    assert data["events"] == 2
    assert data["CAIFI"] is None
    assert "CAIFI" in data["not_available"]
    three = run(path, threshold=3)
    assert three["SAIFI"] == pytest.approx(0.14)
    assert three["MAIFI"] == 0


@pytest.mark.parametrize(
    ("line", "fault"),
    [
        ("2026-03-01T08:00:00,2026-03-01T09:00:00+08:00,1", "no UTC offset"),
        ("2026-03-01T08:00:00+08:00,2026-03-01T07:00:00+08:00,1", "end is before start"),
        ("2026-03-01T08:00:00+08:00,2026-03-01T09:00:00+08:00,many", "customers"),
        ("2026-03-01T08:00:00+08:00,2026-03-01T09:00:00+08:00,-3", "customers"),
    ],
)
def test_command_refuses_a_malformed_file(tmp_path, line, fault):
    path = tmp_path / "bad.csv"
    path.write_text(
        "start,end,customers\n2026-03-01T08:00:00+08:00,2026-03-01T09:00:00+08:00,1\n" + line + "\n"
    )
    with pytest.raises(CommandError) as info:
        run(path)
    assert "bad.csv, line 3" in str(info.value)
    assert fault in str(info.value)


def test_command_refuses_bad_arguments(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("start,end,customers\n")
    with pytest.raises(CommandError, match="customers"):
        run(path, customers=0)
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "missing.csv")


@pytest.mark.data
@pytest.mark.parametrize(
    "name", ["bchydro_outages_2024-01_subset.csv", "bchydro_outages_2024_365days.csv.gz"]
)
def test_command_on_bc_hydro_records_matches_an_independent_sum(shared_data, tmp_path, name):
    # given: BC Hydro events, one per outage id, and BC Hydro's ~2.1 million customers
    rows = bchydro.read_unique(shared_data / "outages" / name)
    path = tmp_path / "events.csv"
    bchydro.write_events(rows, path)
    served = 2_100_000
    # when
    data = run(path, customers=served)
    # then: the figures equal a direct sum over the source rows
    ci = cmi = mi = 0.0
    for row in rows:
        start = datetime.fromisoformat(row["dateOff"])
        minutes = (datetime.fromisoformat(row["dateOn"]) - start).total_seconds() / 60
        n = float(row["numCustomersOut"])
        if minutes > 5:
            ci += n
            cmi += n * minutes
        else:
            mi += n
    assert data["events"] == len(rows)
    assert data["SAIFI"] == pytest.approx(ci / served, abs=1e-6)
    assert data["SAIDI"] == pytest.approx(cmi / served, abs=1e-5)
    assert data["CAIDI"] == pytest.approx(cmi / ci, rel=1e-6)
    assert data["MAIFI"] == pytest.approx(mi / served, abs=1e-6)
    assert data["SAIFI"] > 0
    with (tmp_path / "events.csv").open() as handle:
        assert sum(1 for _ in csv.reader(handle)) == len(rows) + 1
