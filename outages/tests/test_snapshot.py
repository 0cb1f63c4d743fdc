"""The public snapshot wired to real outages: selector, publish service, throttled trigger."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from outages import events
from outages.models import Outage
from outages.providers import work_progress
from outages.publicmap.publishing import read_current
from outages.publicmap.snapshot import (
    THROTTLE_KEY,
    on_outage_changed,
    snapshot_outages,
    snapshot_publish,
)
from outages.services import outage_create, outage_restore, outage_set_etr
from outages.tasks.snapshot import snapshot_publish_task
from outages.tests.factories import outage_cause, outage_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot_dir(settings, tmp_path) -> Path:
    settings.SNAPSHOT_DIR = tmp_path / "snapshot"
    return settings.SNAPSHOT_DIR


@pytest.fixture
def throttle_clear():
    keys = [f"publish:{THROTTLE_KEY}:window", f"publish:{THROTTLE_KEY}:pending"]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def _declare(network, code="S1", **kwargs) -> Outage:
    return outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network[code],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        **kwargs,
    )


def test_snapshot_outages_lists_active_outages_with_public_fields_only(network):
    # Given an active outage with a cause and an ETR, and a restored one
    etr = timezone.now() + timedelta(hours=2)
    active = _declare(network, "S1", cause=outage_cause("tree_contact"), etr=etr)
    restored = _declare(network, "S2")
    outage_restore(outage=restored, actor=None)

    rows = snapshot_outages()

    # Then only the active one is listed, with its area, label point and public fields
    assert [r["id"] for r in rows] == [active.pk]
    row = rows[0]
    assert row["category"] == "fault"
    assert row["type"] == "fault_mv_feeder"
    assert row["status"] == Outage.Status.CONFIRMED
    assert row["cause"] == "tree_contact"
    assert row["etr"] == etr
    assert row["customers_affected"] == 6
    assert row["district"] == "440304"
    assert row["crew_status"] is None  # no work-orders provider knows this outage
    assert row["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert 22.53 < row["lat"] < 22.55
    assert 114.04 < row["lng"] < 114.06
    # and nothing about any customer
    dumped = json.dumps(rows, default=str, ensure_ascii=False)
    for sp in network.sps["T1"] + network.sps["T2"]:
        assert sp.customer_name not in dumped
        assert sp.phone not in dumped
        assert sp.account_no not in dumped
        assert sp.address not in dumped


def test_small_outage_is_shown_as_a_coarse_point_not_an_area(network):
    sp = network.sps["T4"][1]
    outage_create(
        type=outage_type("fault_single_premise"),
        device=network["T4"],
        service_point=sp,
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
    )
    (row,) = snapshot_outages()
    assert row["customers_affected"] == 1
    assert row["geometry"] is None
    assert row["lat"] == round(row["lat"], 3)
    assert row["lng"] == round(row["lng"], 3)


def test_crew_status_comes_from_the_registered_provider(network):
    outage = _declare(network)

    def provider(ids):
        return dict.fromkeys(ids, "on_site")

    work_progress.register(crew_statuses=provider)
    try:
        (row,) = snapshot_outages()
    finally:
        work_progress.unregister(crew_statuses=provider)
    assert row["id"] == outage.pk
    assert row["crew_status"] == "on_site"


def test_a_failing_crew_provider_leaves_the_crew_unknown(network):
    _declare(network)

    def broken(ids):
        raise RuntimeError("workorders down")

    work_progress.register(crew_statuses=broken)
    try:
        (row,) = snapshot_outages()
    finally:
        work_progress.unregister(crew_statuses=broken)
    assert row["crew_status"] is None


def test_publish_writes_versioned_files_and_points_current_at_them(network, snapshot_dir):
    # Given one active outage
    outage = _declare(network)

    # When the snapshot is published twice
    first = snapshot_publish()
    second = snapshot_publish()

    # Then the version grew, current.json names the newest version's files, and they are whole
    assert second == first + 1
    current = read_current(snapshot_dir)
    assert current["version"] == second
    assert set(current["files"]) == {
        "summary.json",
        "outages.geojson",
        "districts.json",
        "planned.geojson",
    }
    for relative in current["files"].values():
        assert relative.startswith(f"v{second:06d}/")
        json.loads((snapshot_dir / relative).read_bytes())
    geo = json.loads((snapshot_dir / current["files"]["outages.geojson"]).read_bytes())
    assert [f["id"] for f in geo["features"]] == [outage.pk]
    summary = json.loads((snapshot_dir / current["files"]["summary.json"]).read_bytes())
    assert summary["active_outages"] == 1
    assert summary["customers_affected"] == 6
    districts = json.loads((snapshot_dir / current["files"]["districts.json"]).read_bytes())
    futian = next(d for d in districts["districts"] if d["code"] == "440304")
    assert futian == {**futian, "outages": 1, "customers_affected": 6}
    # and no temporary file or directory is left behind
    assert not [p for p in snapshot_dir.iterdir() if p.name.startswith(".tmp-")]


def test_publish_task_and_management_command_publish(network, snapshot_dir, capsys):
    _declare(network)
    snapshot_publish_task.delay()  # eager in tests
    assert read_current(snapshot_dir)["version"] == 1
    call_command("publish_snapshot")
    assert "Published snapshot version 2" in capsys.readouterr().out
    assert read_current(snapshot_dir)["version"] == 2


class _Sent:
    """Records ``snapshot_publish_task.apply_async`` calls instead of running them."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, args=None, kwargs=None, **options) -> None:
        self.calls.append({"args": args, "kwargs": kwargs, **options})


@pytest.fixture
def sent(monkeypatch, settings, throttle_clear):
    settings.SNAPSHOT_AUTO_PUBLISH = True
    settings.SNAPSHOT_MIN_INTERVAL = 30
    recorder = _Sent()
    monkeypatch.setattr(snapshot_publish_task, "apply_async", recorder)
    return recorder


def test_changes_within_the_interval_publish_once_now_and_once_deferred(
    network, sent, django_capture_on_commit_callbacks
):
    # Given the subscriber is wired to outage.changed
    assert on_outage_changed in events.subscribers(events.OUTAGE_CHANGED)

    # When an outage is declared, then changed twice within the interval
    with django_capture_on_commit_callbacks(execute=True):
        outage = _declare(network)
    with django_capture_on_commit_callbacks(execute=True):
        outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=1), actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=2), actor=None)

    # Then exactly one publish went out at once and one was scheduled for the window's end
    assert len(sent.calls) == 2
    immediate, deferred = sent.calls
    assert not immediate.get("countdown")
    assert not immediate.get("kwargs")
    assert deferred["kwargs"] == {"deferred": True}
    assert 0 < deferred["countdown"] <= 30
    # and the task arguments survive a JSON round trip (they travel through Redis)
    assert json.loads(json.dumps(deferred["kwargs"])) == deferred["kwargs"]


def test_deferred_publish_reopens_the_window(
    network, sent, snapshot_dir, django_capture_on_commit_callbacks
):
    # Given a window with its deferred publish pending
    with django_capture_on_commit_callbacks(execute=True):
        on_outage_changed(None)
        on_outage_changed(None)
    assert len(sent.calls) == 2
    # When the deferred publish runs (for real)
    snapshot_publish_task.run(deferred=True)
    assert read_current(snapshot_dir)["version"] == 1
    # Then the next change in the new window schedules one more deferred publish, no more
    with django_capture_on_commit_callbacks(execute=True):
        on_outage_changed(None)
        on_outage_changed(None)
    assert len(sent.calls) == 3
    assert sent.calls[-1]["kwargs"] == {"deferred": True}


def test_auto_publish_can_be_turned_off(
    network, sent, settings, django_capture_on_commit_callbacks
):
    settings.SNAPSHOT_AUTO_PUBLISH = False
    with django_capture_on_commit_callbacks(execute=True):
        on_outage_changed(None)
    assert sent.calls == []


def test_seed_demo_outages_creates_outages_once_and_publishes(snapshot_dir, capsys):
    # Given a tiny demo city
    call_command(
        "seed_demo", service_points=400, feeders_per_grid=1, crews_per_station=1, no_progress=True
    )
    # When the demo outages are seeded twice
    call_command("seed_demo_outages")
    created = Outage.objects.count()
    call_command("seed_demo_outages")
    # Then the second run created nothing, and both published a snapshot showing them
    assert created >= 3
    assert Outage.objects.count() == created
    assert "nothing created" in capsys.readouterr().out
    current = read_current(snapshot_dir)
    assert current["version"] == 2
    summary = json.loads((snapshot_dir / current["files"]["summary.json"]).read_bytes())
    assert summary["active_outages"] == Outage.objects.filter(status__in=Outage.ACTIVE).count()
    assert summary["active_outages"] >= 2
