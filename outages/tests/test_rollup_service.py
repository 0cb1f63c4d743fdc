"""The roll-up service on a small network: predicted outages, widening, single premise,
the cached topology, and the debounced / beat-driven task on a real Celery worker."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from dispatch_center.core import degraded
from grids.services import device_set_open
from outages import services
from outages.models import Outage, TroubleReport
from outages.services import rollup_service
from outages.services.intake import ReportInput
from outages.services.rollup_service import rollup_run, rollup_topology
from outages.tasks.intake import rollup_sweep_task
from outages.tests.conftest import build_network
from outages.tests.factories import TroubleReportFactory, outage_type

R = TroubleReport.Status


@pytest.fixture(autouse=True)
def _fresh_state():
    rollup_service.rollup_topology_invalidate()
    cache.delete(rollup_service.DEBOUNCE_KEY)
    rollup_service._queued_until = 0.0
    yield
    rollup_service.rollup_topology_invalidate()


def _call(net, transformer, index, *, minutes_ago=1, status=R.PENDING):
    return TroubleReportFactory(
        service_point=net.sps[transformer][index],
        status=status,
        received_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def _reload(*reports):
    return [TroubleReport.objects.get(pk=r.pk) for r in reports]


@pytest.mark.django_db
def test_two_calls_under_one_transformer_predict_an_outage_there(network, event_log):
    a, b = _call(network, "T1", 0), _call(network, "T1", 1)
    # When the roll-up runs
    result = rollup_run()
    # Then one predicted outage at T1, from the roll-up, covering T1's three customers
    outage = Outage.objects.get()
    assert result.created == [outage.pk]
    assert outage.status == Outage.Status.PREDICTED
    assert outage.source == Outage.Source.ROLLUP
    assert outage.device_id == network["T1"].pk
    assert outage.type.code == "fault_transformer"
    assert outage.customers_affected == 3
    assert outage.started_at == min(a.received_at, b.received_at)
    # and both reports point at it
    for report in _reload(a, b):
        assert (report.status, report.outage_id) == (R.PREDICTED, outage.pk)


@pytest.mark.django_db
def test_calls_under_a_sibling_widen_the_predicted_outage(network):
    _call(network, "T1", 0), _call(network, "T1", 1)
    first = rollup_run()
    outage = Outage.objects.get(pk=first.created[0])
    # When two customers of T2 (T1's sibling under S1) call too
    c, d = _call(network, "T2", 0), _call(network, "T2", 2)
    second = rollup_run()
    # Then the same outage now sits at S1 and covers T1 and T2
    outage.refresh_from_db()
    assert second.widened == [outage.pk]
    assert second.created == []
    assert Outage.objects.count() == 1
    assert outage.device_id == network["S1"].pk
    assert outage.customers_affected == 6
    assert network["T1"].pk in set(outage.extra_devices.values_list("pk", flat=True))
    for report in _reload(c, d):
        assert (report.status, report.outage_id) == (R.PREDICTED, outage.pk)


@pytest.mark.django_db
def test_a_lone_report_becomes_single_premise_after_the_hold(
    network, event_log, django_capture_on_commit_callbacks
):
    lone = _call(network, "T3", 1, minutes_ago=1)
    # Within the hold nothing happens: a neighbour may still call
    with override_settings(OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY=300):
        rollup_run()
    assert _reload(lone)[0].status == R.PENDING
    # After it, the report asks for a premise visit
    with (
        override_settings(OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY=30),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = rollup_run()
    (lone,) = _reload(lone)
    assert result.single_premise_reports == 1
    assert lone.status == R.SINGLE_PREMISE
    assert not Outage.objects.exists()
    visits = [p for name, p in event_log if name == "report.needs_premise_visit"]
    assert visits == [
        {"report_id": lone.pk, "service_point_id": lone.service_point_id, "report_ids": [lone.pk]}
    ]
    # And a further run does not ask twice
    with (
        override_settings(OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY=30),
        django_capture_on_commit_callbacks(execute=True),
    ):
        rollup_run()
    assert len([n for n, _ in event_log if n == "report.needs_premise_visit"]) == 1


@pytest.mark.django_db
def test_a_single_premise_report_joins_a_later_prediction(network):
    first = _call(network, "T3", 0, minutes_ago=10, status=R.SINGLE_PREMISE)
    second = _call(network, "T3", 2, minutes_ago=1)
    rollup_run()
    outage = Outage.objects.get()
    assert outage.device_id == network["T3"].pk
    for report in _reload(first, second):
        assert (report.status, report.outage_id) == (R.PREDICTED, outage.pk)


@pytest.mark.django_db
def test_reports_below_an_active_outage_are_merged(network):
    outage = services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S2"],
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
    )
    # A report that was pending before the outage was declared
    early = _call(network, "T3", 0, minutes_ago=5)
    result = rollup_run()
    assert result.merged_reports == 1
    (early,) = _reload(early)
    assert (early.status, early.outage_id) == (R.MERGED, outage.pk)
    assert Outage.objects.count() == 1


@pytest.mark.django_db
def test_running_twice_predicts_once(network):
    _call(network, "T4", 0), _call(network, "T4", 1)
    rollup_run()
    again = rollup_run()
    assert again.created == []
    assert again.widened == []
    assert Outage.objects.count() == 1


@pytest.mark.django_db
def test_stale_pending_reports_become_single_premise(network):
    old = _call(network, "T2", 1, minutes_ago=90)
    rollup_run()
    assert _reload(old)[0].status == R.SINGLE_PREMISE


@pytest.mark.django_db
def test_nothing_is_predicted_at_or_above_a_telemetered_breaker(network):
    # Calls from every transformer: without telemetry the feeder breaker would be the answer
    for t, n in (("T1", 3), ("T2", 3), ("T3", 3), ("T4", 2)):
        for i in range(n):
            _call(network, t, i)
    rollup_run()
    devices = set(Outage.objects.values_list("device_id", flat=True))
    assert network["B"].pk not in devices
    # but each section below it is, at the lowest device its callers share: S1 for T1 and T2;
    # T3 and T4 themselves, each alone below its switch or fuse
    assert devices == {network["S1"].pk, network["T3"].pk, network["T4"].pk}
    assert not TroubleReport.objects.filter(outage__isnull=True).exists()


@pytest.mark.django_db
def test_storm_mode_switch_selects_the_storm_settings():
    with override_settings(OUTAGE_ROLLUP_STORM_MODE=True):
        assert rollup_service.rollup_config().window == timedelta(minutes=60)
    with override_settings(OUTAGE_ROLLUP_STORM_MODE=False, OUTAGE_ROLLUP_MODE="rules"):
        config = rollup_service.rollup_config()
        assert config.window == timedelta(minutes=30)
        assert config.mode == "rules"


@pytest.mark.django_db
def test_topology_is_cached_and_rebuilt_after_switching(network, django_assert_num_queries):
    first = rollup_topology()
    with django_assert_num_queries(1):  # the fingerprint only
        assert rollup_topology() is first
    assert first.parent[network["T3"].pk] == network["S2"].pk
    assert first.customers_below(network["S1"].pk) == 6
    assert network["B"].pk in first.closed
    # When S2 is opened, T3 loses its supply path
    device_set_open(device=network["S2"], is_open=True)
    rebuilt = rollup_topology()
    assert rebuilt is not first
    assert rebuilt.parent[network["T3"].pk] is None


# --- the trigger and the sweeper on a real worker -------------------------------------------


def test_a_burst_of_commits_queues_one_run(monkeypatch):
    from outages.tasks.intake import rollup_run_task

    sent = []
    clock = [1000.0]
    monkeypatch.setattr(rollup_run_task, "apply_async", lambda **kw: sent.append(kw))
    monkeypatch.setattr(rollup_service.time, "monotonic", lambda: clock[0])
    rollup_run_task.app.conf.task_always_eager = False  # as with a broker and workers
    try:
        # A burst of intake commits, across the countdown
        for _ in range(10):
            rollup_service.rollup_request()
            clock[0] += 0.5
        assert sent == [{"args": (), "countdown": 3.0}]
        assert cache.get(rollup_service.DEBOUNCE_KEY) is not None
        # When the run starts it clears the key: the next commit queues the next run
        rollup_service.rollup_request_clear()
        clock[0] += 10
        rollup_service.rollup_request()
        assert len(sent) == 2
    finally:
        rollup_run_task.app.conf.task_always_eager = True


@override_settings(OUTAGE_ROLLUP_DEBOUNCE_SECONDS=0.3)
def test_the_debounce_key_expires_when_the_queued_run_starts(monkeypatch):
    from dispatch_center.core.redis_client import default_cache_client
    from outages.tasks.intake import rollup_run_task

    sent = []
    clock = [1000.0]
    monkeypatch.setattr(rollup_run_task, "apply_async", lambda **kw: sent.append(kw))
    monkeypatch.setattr(rollup_service.time, "monotonic", lambda: clock[0])
    rollup_run_task.app.conf.task_always_eager = False  # as with a broker and workers
    try:
        # Given a queued run whose message no worker takes (lost, or the workers are busy)
        rollup_service.rollup_request()
        assert len(sent) == 1
        backend, client = default_cache_client()
        ttl_ms = client.pttl(backend.make_and_validate_key(rollup_service.DEBOUNCE_KEY))
        # Then its key lives only until the run is due, not longer
        assert 0 < ttl_ms <= 300
        deadline = time.monotonic() + 5
        while cache.get(rollup_service.DEBOUNCE_KEY) is not None:
            assert time.monotonic() < deadline, "the debounce key outlived its countdown"
            time.sleep(0.05)
        # And a report committed after that start queues the next run
        clock[0] += 10
        rollup_service.rollup_request()
        assert len(sent) == 2
    finally:
        rollup_run_task.app.conf.task_always_eager = True


def test_the_trigger_never_fails_the_caller(monkeypatch, caplog):
    from outages.tasks.intake import rollup_run_task

    attempts = []

    def down(**kwargs):
        attempts.append(kwargs)
        raise ConnectionError("broker down")

    monkeypatch.setattr(rollup_run_task, "apply_async", down)
    # When the broker refuses the message
    with caplog.at_level("WARNING", logger=degraded.logger.name):
        rollup_service.rollup_request()  # must not raise
    # Then the run was really asked for, and the broker outage is logged with its cause
    assert attempts == [{"args": (), "countdown": 3.0}]
    [record] = [r for r in caplog.records if r.name == degraded.logger.name]
    assert "ConnectionError: broker down" in record.getMessage()
    assert degraded.broker_breaker.is_down


def _wait_for_outage(timeout=25.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outage = Outage.objects.filter(source=Outage.Source.ROLLUP).first()
        if outage is not None:
            return outage
        time.sleep(0.2)
    pytest.fail("no predicted outage appeared")


def _wait_until_idle(timeout=10.0):
    """Let a run queued by the last commit finish before the test's tables are flushed."""
    deadline = time.monotonic() + timeout
    while cache.get(rollup_service.DEBOUNCE_KEY) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@override_settings(OUTAGE_ROLLUP_DEBOUNCE_SECONDS=0.5)
def test_intake_triggers_a_debounced_rollup_on_the_worker(celery_worker):
    net = build_network()
    # When two customers of T4 call through the intake (each commits on its own)
    for i, sp in enumerate(net.sps["T4"]):
        result = services.report_submit(
            data=ReportInput(
                channel="web",
                symptom="no_power",
                contact_phone=f"1380013800{i}",
                account_no=sp.account_no,
            ),
            actor=None,
        )
        assert result.report.status == R.PENDING
    # Then the debounced task runs on the worker and predicts the outage at T4
    outage = _wait_for_outage()
    assert outage.device_id == net["T4"].pk
    _wait_until_idle()
    assert set(outage.reports.values_list("status", flat=True)) == {R.PREDICTED}
    assert Outage.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@override_settings(OUTAGE_INTAKE_TRIGGER_ROLLUP=False)
def test_beat_sweeper_runs_the_rollup_on_the_worker(celery_worker):
    net = build_network()
    # Given pending reports whose trigger was lost
    _call(net, "T3", 0), _call(net, "T3", 1)
    assert not Outage.objects.exists()
    # When beat fires the sweeper
    rollup_sweep_task.delay()
    outage = _wait_for_outage()
    assert outage.device_id == net["T3"].pk
    _wait_until_idle()


def test_the_fault_mix_is_a_setting(settings):
    from django.core.exceptions import ImproperlyConfigured

    from outages.rollup import FaultMix

    settings.OUTAGE_ROLLUP_FAULT_MIX = {"premise": 0.0, "switch": 0.5}
    config = rollup_service.rollup_config()
    assert config.fault_mix == FaultMix(premise=0.0, switch=0.5)
    settings.OUTAGE_ROLLUP_STORM_MODE = True
    assert rollup_service.rollup_config().fault_mix == FaultMix(premise=0.0, switch=0.5)
    settings.OUTAGE_ROLLUP_FAULT_MIX = {}
    assert rollup_service.rollup_config().fault_mix == FaultMix()
    settings.OUTAGE_ROLLUP_FAULT_MIX = {"premis": 0.0}
    with pytest.raises(ImproperlyConfigured, match="premis"):
        rollup_service.rollup_config()


@pytest.mark.django_db
def test_the_topology_names_fuses_as_laterals(network):
    from outages.rollup import FaultKind

    topology = rollup_service.rollup_topology()
    assert topology.kinds is not None
    assert topology.kinds[network["FU"].pk] is FaultKind.LATERAL
    assert topology.kinds[network["S1"].pk] is FaultKind.SWITCH
    assert network["T1"].pk not in topology.kinds
