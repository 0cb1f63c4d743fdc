"""``manage.py frequent_outages``: the API.md contract, malformed files, BC Hydro records."""

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from reliability.tests import bchydro


def run(path, as_of="2026-12-31", tz=None):
    out, err = StringIO(), StringIO()
    args = ["frequent_outages", "--interruptions", str(path), "--as-of", as_of]
    if tz:
        args += ["--tz", tz]
    call_command(*args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def write(path, lines):
    path.write_text("\n".join(["customer,start,end,planned", *lines]) + "\n")
    return path


def test_prints_levels_reasons_and_counts(tmp_path):
    # given: A has 6 interruptions in the year, B 2 in the last 30 days, C one
    lines = [
        f"A,2026-{m:02d}-05T10:00:00+08:00,2026-{m:02d}-05T11:00:00+08:00,false"
        for m in (1, 3, 5, 7, 9, 11)
    ]
    lines += [
        "B,2026-12-10T10:00:00+08:00,2026-12-10T12:00:00+08:00,true",
        "B,2026-12-30T10:00:00+08:00,2026-12-30T12:00:00+08:00,false",
        "C,2026-06-01T10:00:00+08:00,2026-06-01T10:05:00+08:00,false",
        "C,2026-06-02T10:00:00+08:00,2026-06-02T11:00:00+08:00,FALSE",
    ]
    # when
    data, _ = run(write(tmp_path / "i.csv", lines))
    # then
    assert data["counts"] == {"frequent": 1, "warning": 1, "normal": 1}
    a, b, c = (data["customers"][k] for k in "ABC")
    assert a["level"] == "frequent"
    assert a["counts"]["period"] == 6
    assert any("6" in text for text in a["reasons"])
    assert b["level"] == "warning"
    assert b["counts"]["planned"] == 1
    assert c["level"] == "normal"
    assert c["counts"]["momentary"] == 1
    assert set(a) >= {"level", "reasons", "counts"}


def test_dates_are_taken_in_the_given_zone(tmp_path):
    # 31 Dec 2026 20:00 UTC is 1 Jan 2027 in Shanghai but still 31 Dec in UTC
    lines = ["A,2026-12-31T20:00:00+00:00,2026-12-31T21:00:00+00:00,false"]
    path = write(tmp_path / "i.csv", lines)
    shanghai, _ = run(path, as_of="2027-01-01")
    utc, _ = run(path, as_of="2027-01-01", tz="UTC")
    assert shanghai["customers"]["A"]["counts"]["period"] == 1
    assert utc["customers"]["A"]["counts"]["period"] == 0


@pytest.mark.parametrize(
    ("line", "fault"),
    [
        ("A,yesterday,2026-01-01T10:00:00+08:00,false", "start"),
        ("A,2026-01-01T10:00:00+08:00,2026-01-01T09:00:00+08:00,false", "end is before start"),
        ("A,2026-01-01T10:00:00+08:00,2026-01-01T11:00:00+08:00,maybe", "planned"),
        (",2026-01-01T10:00:00+08:00,2026-01-01T11:00:00+08:00,false", "customer"),
        ("A,2026-01-01T10:00:00+08:00", "fields"),
    ],
)
def test_refuses_a_malformed_file_naming_file_and_line(tmp_path, line, fault):
    good = "A,2026-01-01T10:00:00+08:00,2026-01-01T11:00:00+08:00,false"
    path = write(tmp_path / "bad.csv", [good, line])
    with pytest.raises(CommandError) as info:
        run(path)
    message = str(info.value)
    assert "bad.csv" in message
    assert "line 3" in message
    assert fault in message


def test_refuses_a_missing_column_and_a_bad_date(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("customer,start,planned\n")
    with pytest.raises(CommandError, match=r"h\.csv, line 1: missing column\(s\) end"):
        run(path)
    ok = write(tmp_path / "ok.csv", [])
    with pytest.raises(CommandError, match="as-of"):
        run(ok, as_of="31/12/2026")


def test_shows_progress_on_long_files(tmp_path, monkeypatch):
    from reliability import csvinput

    monkeypatch.setattr(csvinput, "PROGRESS_EVERY", 10)
    lines = [f"C{i},2026-01-01T10:00:00+08:00,2026-01-01T11:00:00+08:00,false" for i in range(25)]
    _, err = run(write(tmp_path / "i.csv", lines))
    assert "20 lines read" in err


def _components(records, gap):
    """Merged interruptions by pairwise linking (an independent method): a list of starts."""
    parent = list(range(len(records)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (si, ei) in enumerate(records):
        for j, (sj, ej) in enumerate(records):
            if i < j and sj - ei < gap and si - ej < gap:
                parent[find(i)] = find(j)
    starts = defaultdict(list)
    for i, (s, _e) in enumerate(records):
        starts[find(i)].append(s)
    return [min(v) for v in starts.values()]


@pytest.mark.data
def test_on_bc_hydro_records(shared_data, tmp_path):
    # given: a year of BC Hydro outages, one row per outage id, a street block per customer
    rows = bchydro.read_unique(shared_data / "outages" / "bchydro_outages_2024_365days.csv.gz")
    path = tmp_path / "bc.csv"
    bchydro.write_interruptions(rows, path)
    # when
    data, _ = run(path, as_of="2024-12-31", tz="America/Vancouver")
    # then: every street block has a level, and the counts agree with an independent merge
    tz = ZoneInfo("America/Vancouver")
    by_customer = defaultdict(list)
    for row in rows:
        start, end = datetime.fromisoformat(row["dateOff"]), datetime.fromisoformat(row["dateOn"])
        if end - start > timedelta(minutes=5):
            by_customer[bchydro.customer_key(row)].append((start, end))
    assert sum(data["counts"].values()) == len(data["customers"])
    assert len(data["customers"]) == len({bchydro.customer_key(r) for r in rows})
    for key, records in by_customer.items():
        starts = _components(records, timedelta(hours=6))
        in_year = [
            s for s in starts if date(2024, 1, 1) <= s.astimezone(tz).date() <= date(2024, 12, 31)
        ]
        result = data["customers"][key]
        assert result["counts"]["period"] == len(in_year), key
        if len(in_year) > 5:
            assert result["level"] == "frequent", key
        if result["level"] == "normal":
            assert len(in_year) < 4, key
    assert data["counts"]["frequent"] > 0
    assert data["counts"]["warning"] > 0
