"""The snapshot publisher: atomic versioned files, pruning, cross-process versions, throttling."""

import datetime as dt
import gzip
import json
import multiprocessing
import time
import uuid

import pytest
from django.core.cache import cache as django_cache
from django.core.cache.backends.locmem import LocMemCache

from grids.geodata import DISTRICTS
from outages.publicmap import publishing
from outages.publicmap.publishing import (
    PublishDecision,
    SnapshotError,
    deferred_publish_started,
    publish_snapshot,
    published_versions,
    read_current,
    should_publish_now,
    snapshot_files,
)

NOW = dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)


def _files(n: int = 0) -> dict:
    return {"summary.json": {"n": n}, "outages.geojson": {"type": "FeatureCollection", "n": n}}


def test_publish_writes_a_version_and_points_current_at_it(tmp_path):
    version = publish_snapshot(_files(1), directory=tmp_path, generated_at=NOW)

    current = read_current(tmp_path)
    assert current == {
        "version": version,
        "generated_at": "2026-07-01T08:30:00+00:00",
        "files": {
            "summary.json": f"v{version:06d}/summary.json",
            "outages.geojson": f"v{version:06d}/outages.geojson",
        },
    }
    for name, relative in current["files"].items():
        assert json.loads((tmp_path / relative).read_bytes())["n"] == 1, name


def test_bytes_are_written_verbatim_and_dicts_as_compact_utf8(tmp_path):
    raw = b'{"already":"encoded"}'
    publish_snapshot(
        {"a.json": raw, "b.json": {"名称": "福田区", "at": NOW}},
        directory=tmp_path,
        generated_at=NOW,
    )
    files = read_current(tmp_path)["files"]
    assert (tmp_path / files["a.json"]).read_bytes() == raw
    assert (tmp_path / files["b.json"]).read_bytes() == (
        '{"名称":"福田区","at":"2026-07-01T08:30:00+00:00"}'.encode()
    )


def test_versions_strictly_increase(tmp_path):
    versions = [publish_snapshot(_files(i), directory=tmp_path) for i in range(4)]
    assert versions == sorted(set(versions))
    assert read_current(tmp_path)["version"] == versions[-1]


def test_old_versions_are_pruned_and_the_current_one_kept(tmp_path):
    for i in range(6):
        last = publish_snapshot(_files(i), directory=tmp_path, keep=3)
    assert published_versions(tmp_path) == [last - 2, last - 1, last]
    assert read_current(tmp_path)["version"] == last


def test_version_keeps_growing_after_every_directory_is_gone(tmp_path):
    # Given versions that were published and later deleted by hand (or pruned away)
    first = publish_snapshot(_files(), directory=tmp_path, keep=1)
    for entry in tmp_path.iterdir():
        if entry.name.startswith("v"):
            for f in entry.iterdir():
                f.unlink()
            entry.rmdir()
    (tmp_path / "current.json").unlink()
    # When publishing again, then the counter file still prevents reusing a number
    assert publish_snapshot(_files(), directory=tmp_path) == first + 1


def test_large_files_get_a_gzip_twin_with_the_same_content(tmp_path):
    big = {"features": [{"id": i, "name": "停电区域"} for i in range(200)]}
    publish_snapshot({"outages.geojson": big, "tiny.json": {"a": 1}}, directory=tmp_path)
    files = read_current(tmp_path)["files"]
    plain = (tmp_path / files["outages.geojson"]).read_bytes()
    twin = tmp_path / (files["outages.geojson"] + ".gz")
    assert gzip.decompress(twin.read_bytes()) == plain
    assert len(twin.read_bytes()) < len(plain)
    # Tiny files are not worth a twin.
    assert not (tmp_path / (files["tiny.json"] + ".gz")).exists()


def test_files_are_world_readable_for_nginx(tmp_path):
    publish_snapshot(_files(), directory=tmp_path)
    version_dir = tmp_path / read_current(tmp_path)["files"]["summary.json"].split("/")[0]
    assert version_dir.stat().st_mode & 0o777 == 0o755
    assert (version_dir / "summary.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "current.json").stat().st_mode & 0o777 == 0o644


def test_no_temporary_files_are_left_behind(tmp_path):
    # A temporary directory left by a publisher that crashed is cleaned up by the next one.
    (tmp_path / ".tmp-crashed").mkdir()
    (tmp_path / ".tmp-crashed" / "summary.json").write_text("{}")
    publish_snapshot(_files(), directory=tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_a_failed_write_leaves_the_previous_snapshot_current(tmp_path, monkeypatch):
    good = publish_snapshot(_files(1), directory=tmp_path)

    def broken(path, data):
        raise OSError("disk full")

    monkeypatch.setattr(publishing, "_write_durably", broken)
    with pytest.raises(OSError, match="disk full"):
        publish_snapshot(_files(2), directory=tmp_path)
    monkeypatch.undo()

    assert read_current(tmp_path)["version"] == good
    assert published_versions(tmp_path) == [good]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize(
    "name", ["../escape.json", "current.json", ".hidden.json", "sub/dir.json", "x.txt", ""]
)
def test_bad_file_names_are_refused(tmp_path, name):
    with pytest.raises(SnapshotError):
        publish_snapshot({name: {}}, directory=tmp_path)
    assert read_current(tmp_path) is None


def test_empty_snapshot_and_bad_arguments_are_refused(tmp_path):
    with pytest.raises(SnapshotError):
        publish_snapshot({}, directory=tmp_path)
    with pytest.raises(SnapshotError):
        publish_snapshot(_files(), directory=tmp_path, keep=0)
    with pytest.raises(SnapshotError):
        publish_snapshot(_files(), directory=tmp_path, generated_at=dt.datetime(2026, 1, 1))


def _publish_many(directory: str, count: int, queue) -> None:
    for i in range(count):
        queue.put(publish_snapshot(_files(i), directory=directory, keep=50))


def test_concurrent_publishers_in_several_processes_get_distinct_versions(tmp_path):
    # Given four worker processes publishing at the same time
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_publish_many, args=(str(tmp_path), 5, queue)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    versions = [queue.get(timeout=5) for _ in range(20)]

    # Then every publish got its own version, and current.json names the highest one
    assert sorted(versions) == list(range(1, 21))
    assert read_current(tmp_path)["version"] == 20
    assert published_versions(tmp_path) == list(range(1, 21))


# --- building the public files --------------------------------------------------------------


def _outage(**overrides) -> dict:
    row = {
        "id": 7,
        "category": "fault",
        "type": "line_fault",
        "type_name": "线路故障",
        "type_name_en": "Line fault",
        "status": "crew_on_site",
        "cause": "tree",
        "cause_name": "树障",
        "cause_name_en": "Tree contact",
        "started_at": NOW,
        "etr": NOW + dt.timedelta(hours=2),
        "customers_affected": 120,
        "district": "440304",
        "crew_status": "on_site",
        "lat": 22.5431234,
        "lng": 114.0579876,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [114.0571234, 22.5421234],
                    [114.0591, 22.5421],
                    [114.059, 22.544],
                    [114.0571234, 22.5421234],
                ]
            ],
        },
    }
    row.update(overrides)
    return row


def test_snapshot_files_describe_each_outage_with_public_fields_only():
    files = snapshot_files(outages=[_outage()], generated_at=NOW)
    collection = files["outages.geojson"]
    assert collection["type"] == "FeatureCollection"
    feature = collection["features"][0]
    assert feature["id"] == 7
    assert feature["properties"] == {
        "id": 7,
        "category": "fault",
        "type": "line_fault",
        "status": "crew_on_site",
        "cause": "tree",
        "started_at": "2026-07-01T08:30:00+00:00",
        "etr": "2026-07-01T10:30:00+00:00",
        "customers_affected": 120,
        "district": "440304",
        "crew_status": "on_site",
        "lat": 22.54312,
        "lng": 114.05799,
    }
    # Coordinates are rounded to 5 decimals (about a metre).
    assert feature["geometry"]["coordinates"][0][0] == [114.05712, 22.54212]
    assert collection["labels"] == {
        "type": {"line_fault": {"zh-hans": "线路故障", "en": "Line fault"}},
        "cause": {"tree": {"zh-hans": "树障", "en": "Tree contact"}},
    }


def test_outage_without_area_is_drawn_at_its_label_point():
    files = snapshot_files(outages=[_outage(geometry=None, cause=None)], generated_at=NOW)
    feature = files["outages.geojson"]["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [114.05799, 22.54312]}
    assert files["outages.geojson"]["labels"]["cause"] == {}


def test_summary_totals_by_category_and_district():
    outages = [
        _outage(id=1, customers_affected=100, district="440304"),
        _outage(id=2, customers_affected=50, district="440304", category="planned"),
        _outage(id=3, customers_affected=300, district="440305"),
        _outage(id=4, customers_affected=5, district=None),
    ]
    summary = snapshot_files(outages=outages, generated_at=NOW)["summary.json"]
    assert summary["active_outages"] == 4
    assert summary["customers_affected"] == 455
    assert summary["by_category"] == {
        "fault": {"outages": 3, "customers_affected": 405},
        "planned": {"outages": 1, "customers_affected": 50},
    }
    rows = summary["by_district"]
    assert len(rows) == len(DISTRICTS)
    assert [(r["code"], r["customers_affected"]) for r in rows[:2]] == [
        ("440305", 300),
        ("440304", 150),
    ]
    assert rows[0]["name"] == "南山区"
    assert rows[0]["name_en"] == "Nanshan"
    assert all(r["outages"] == 0 for r in rows[2:])


def test_snapshot_round_trips_through_the_publisher(tmp_path):
    files = snapshot_files(outages=[_outage()], generated_at=NOW)
    publish_snapshot(files, directory=tmp_path, generated_at=NOW)
    relative = read_current(tmp_path)["files"]["outages.geojson"]
    assert json.loads((tmp_path / relative).read_bytes()) == files["outages.geojson"]


def test_district_outlines_as_geojson():
    collection = publishing.districts_geojson()
    assert len(collection["features"]) == len(DISTRICTS)
    nanshan = next(f for f in collection["features"] if f["id"] == "440305")
    # 南山区 has two outer rings (the mainland and an island).
    assert nanshan["geometry"]["type"] == "MultiPolygon"
    futian = next(f for f in collection["features"] if f["id"] == "440304")
    assert futian["geometry"]["type"] == "Polygon"
    assert futian["properties"]["name_en"] == "Futian"


# --- throttling ---------------------------------------------------------------------------------


@pytest.fixture
def locmem():
    return LocMemCache(f"throttle-{uuid.uuid4()}", {})


def test_first_change_publishes_at_once(locmem):
    assert should_publish_now("map", interval=30, cache=locmem, now=1000.0) == PublishDecision(
        publish_now=True, schedule_in=None
    )


def test_first_change_in_the_quiet_period_schedules_one_publish_at_its_end(locmem):
    # Given a publish at t=1000
    should_publish_now("map", interval=30, cache=locmem, now=1000.0)
    # When changes arrive at t=1010 and t=1020
    second = should_publish_now("map", interval=30, cache=locmem, now=1010.0)
    third = should_publish_now("map", interval=30, cache=locmem, now=1020.0)
    # Then exactly one publish is scheduled, for t=1030
    assert second == PublishDecision(publish_now=False, schedule_in=20.0)
    assert third == PublishDecision(publish_now=False, schedule_in=None)


def test_deferred_publish_opens_the_next_window(locmem):
    should_publish_now("map", interval=30, cache=locmem, now=1000.0)
    assert should_publish_now("map", interval=30, cache=locmem, now=1010.0).schedule_in == 20.0
    # When the deferred publish starts at t=1030
    deferred_publish_started("map", interval=30, cache=locmem, now=1030.0)
    # Then a change right after is deferred to the end of the new window, once
    assert should_publish_now("map", interval=30, cache=locmem, now=1031.0) == PublishDecision(
        publish_now=False, schedule_in=29.0
    )
    assert should_publish_now("map", interval=30, cache=locmem, now=1032.0).schedule_in is None


def test_keys_are_independent(locmem):
    assert should_publish_now("map", interval=30, cache=locmem, now=1000.0).publish_now
    assert should_publish_now("other", interval=30, cache=locmem, now=1000.0).publish_now


def test_throttle_on_the_django_cache_expires_after_the_interval():
    # The default cache is Redis in the tests, as in production; real expiry, one second.
    key = f"test-{uuid.uuid4()}"
    try:
        assert should_publish_now(key, interval=1).publish_now
        decision = should_publish_now(key, interval=1)
        assert not decision.publish_now
        assert decision.schedule_in is not None
        assert 0 <= decision.schedule_in <= 1
        # When the deferred publish runs and then a quiet interval passes
        deferred_publish_started(key, interval=1)
        time.sleep(1.2)
        # Then the next change publishes at once again
        assert should_publish_now(key, interval=1).publish_now
    finally:
        window, pending = publishing._throttle_keys(key)
        django_cache.delete_many([window, pending])


def test_concurrent_callers_get_exactly_one_immediate_publish():
    # cache.add is atomic in Redis: of many racing workers one wins the window.
    key = f"test-{uuid.uuid4()}"
    try:
        decisions = [should_publish_now(key, interval=30) for _ in range(10)]
        assert sum(d.publish_now for d in decisions) == 1
        assert sum(d.schedule_in is not None for d in decisions) == 1
    finally:
        django_cache.delete_many(list(publishing._throttle_keys(key)))
