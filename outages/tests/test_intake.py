"""Trouble report intake: saved first, idempotent, resolved, merged, nested, danger."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.models import ServicePoint
from grids.tests.factories import DistrictFactory
from outages import services
from outages.models import Outage, TroubleReport
from outages.services import intake
from outages.services.intake import IdempotencyKeyReused, ReportInput, report_message
from outages.tests.factories import outage_cause, outage_type

pytestmark = pytest.mark.django_db

R = TroubleReport.Status


def _input(**kwargs):
    values = {"channel": "web", "symptom": "no_power", "contact_phone": "13800138000"}
    values.update(kwargs)
    return ReportInput(**values)


def _submit(key=None, **kwargs):
    return services.report_submit(
        data=_input(**kwargs), actor=None, idempotency_client="public", idempotency_key=key
    )


def _declare(net, code, **kwargs):
    kwargs.setdefault("status", Outage.Status.CONFIRMED)
    return services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net[code],
        source=Outage.Source.DISPATCHER,
        actor=None,
        **kwargs,
    )


def test_account_number_resolves_and_report_waits_for_the_rollup(network):
    sp = network.sps["T3"][0]
    result = _submit(account_no=sp.account_no)
    report = TroubleReport.objects.get()
    assert result.created
    assert report.status == R.PENDING
    assert report.service_point_id == sp.pk
    assert report.outage is None
    assert report.resolved_at is not None
    assert report.reference.startswith("R")
    assert len(report.reference) == 16


def test_same_idempotency_key_returns_the_first_report(network):
    sp = network.sps["T3"][0]
    first = _submit(key="k-1", account_no=sp.account_no)
    # When the client retries the very same submission
    again = _submit(key="k-1", account_no=sp.account_no)
    # Then it gets the same report and nothing new is saved
    assert not again.created
    assert again.report.pk == first.report.pk
    assert TroubleReport.objects.count() == 1


def test_same_key_with_another_body_is_refused(network):
    _submit(key="k-2", account_no=network.sps["T3"][0].account_no)
    with pytest.raises(IdempotencyKeyReused) as err:
        _submit(key="k-2", account_no=network.sps["T3"][1].account_no)
    assert err.value.status_code == 422
    assert TroubleReport.objects.count() == 1


def test_keys_are_separate_per_client(network):
    sp = network.sps["T3"][0]
    _submit(key="k-3", account_no=sp.account_no)
    other = services.report_submit(
        data=_input(account_no=sp.account_no),
        actor=None,
        idempotency_client="user:99",
        idempotency_key="k-3",
    )
    assert other.created
    assert TroubleReport.objects.count() == 2


def test_unknown_account_keeps_the_report_for_an_agent(network):
    result = _submit(account_no="030099999999")
    report = result.report
    assert report.pk is not None
    assert report.status == R.NEEDS_RESOLUTION
    assert report.service_point is None
    assert report.raw_account_no == "030099999999"
    assert "客服人员" in report_message(report)


def test_a_phone_number_is_not_an_account(network):
    sp = network.sps["T3"][0]
    assert _submit(account_no=sp.phone).report.status == R.NEEDS_RESOLUTION


def test_unresolvable_address_keeps_the_report(network):
    report = _submit(address="火星基地99号").report
    assert TroubleReport.objects.filter(pk=report.pk, status=R.NEEDS_RESOLUTION).exists()
    assert report.raw_address == "火星基地99号"


def test_ambiguous_address_asks_an_agent(network):
    # "华强北路" is the start of every address of the network
    assert _submit(address="深圳市福田区华强北路").report.status == R.NEEDS_RESOLUTION


def test_exact_address_resolves(network):
    sp = network.sps["T2"][1]
    report = _submit(address=sp.address).report
    assert report.service_point_id == sp.pk
    assert report.status == R.PENDING


def test_two_premises_at_one_address_ask_an_agent(network):
    a, b = network.sps["T2"][0], network.sps["T3"][0]
    ServicePoint.objects.filter(pk=b.pk).update(address=a.address, address_norm=a.address_norm)
    assert _submit(address=a.address).report.status == R.NEEDS_RESOLUTION


def test_a_clearly_best_partial_address_resolves_through_the_search(network):
    sp = network.sps["T4"][1]
    ServicePoint.objects.filter(pk=sp.pk).update(
        address="深圳市福田区福华路88号荔枝苑3栋1204", address_norm="福华路88号荔枝苑3栋1204"
    )
    # Typed without the room's last digit: no exact address, one clear prefix match
    report = _submit(address="福田区福华路88号荔枝苑3栋120").report
    assert report.service_point_id == sp.pk


def test_an_address_in_another_district_does_not_match(network):
    DistrictFactory(code="440305", name="南山区", name_en="Nanshan")
    sp = network.sps["T1"][0]
    typed = sp.address.replace("福田区", "南山区")
    assert _submit(address=typed).report.status == R.NEEDS_RESOLUTION


def test_coordinates_resolve_to_the_nearest_service_point(network):
    sp = network.sps["T3"][2]
    # About 30 m north-east of the premise
    report = _submit(lat=sp.lat + 0.0002, lng=sp.lng + 0.0002).report
    assert report.service_point_id == sp.pk


def test_coordinates_with_no_premise_nearby_need_an_agent(network):
    # Inside Shenzhen (Futian) but ~1 km from every service point of the network
    report = _submit(lat=22.530, lng=114.030).report
    assert report.status == R.NEEDS_RESOLUTION


@pytest.mark.parametrize(("lat", "lng"), [(39.9042, 116.4074), (22.30, 114.17), (0.0, 0.0)])
def test_coordinates_outside_the_service_area_are_refused(network, lat, lng):
    # Beijing, Hong Kong (south of the border) and null island
    with pytest.raises(DomainError) as err:
        _submit(lat=lat, lng=lng)
    assert err.value.code == "outside_service_area"
    assert set(err.value.fields) == {"lat", "lng"}
    assert not TroubleReport.objects.exists()


def test_report_from_inside_an_active_outage_is_merged(network):
    outage = _declare(network, "S1", etr=timezone.now() + timedelta(hours=2))
    services.outage_set_cause(outage=outage, cause=outage_cause("tree"), actor=None)
    sp = network.sps["T2"][0]
    # When a customer below S1 calls
    result = _submit(account_no=sp.account_no)
    # Then the report joins the outage and the answer tells the cause, status and ETR
    assert result.report.status == R.MERGED
    assert result.outage.pk == outage.pk
    message = report_message(result.report)
    assert "tree" in message  # the cause's name
    assert "已确认" in message
    assert f"{timezone.localtime(result.outage.etr):%H:%M}" in message
    with override("en"):
        assert "Estimated" in report_message(result.report) or "restor" in report_message(
            result.report
        )


def test_danger_report_publishes_even_when_merged(
    network, event_log, django_capture_on_commit_callbacks
):
    outage = _declare(network, "S2")
    sp = network.sps["T3"][1]
    with django_capture_on_commit_callbacks(execute=True):
        result = _submit(account_no=sp.account_no, symptom="wire_down")
    assert result.report.status == R.MERGED
    danger = [payload for name, payload in event_log if name == "report.danger"]
    assert danger == [
        {"report_id": result.report.pk, "outage_id": outage.pk, "service_point_id": sp.pk}
    ]
    # The payload survives a JSON round trip (a subscriber may hand it to a task)
    assert json.loads(json.dumps(danger[0])) == danger[0]


def test_danger_report_publishes_when_the_address_is_unknown(
    event_log, django_capture_on_commit_callbacks, db
):
    with django_capture_on_commit_callbacks(execute=True):
        result = _submit(address="不存在的地址1号", symptom="sparks")
    assert ("report.danger", {"report_id": result.report.pk, "outage_id": None,
            "service_point_id": None}) in event_log  # fmt: skip


def test_no_danger_event_for_an_ordinary_report(
    network, event_log, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _submit(account_no=network.sps["T3"][0].account_no)
    assert not [name for name, _ in event_log if name == "report.danger"]


def test_restored_customer_still_off_opens_a_nested_outage(network):
    outage = _declare(network, "S1")
    # Given T1 was re-energised (partial restoration) while T2 is still out
    outage = services.outage_restore_device(outage=outage, device=network["T1"], actor=None)
    assert outage.status == Outage.Status.PARTIALLY_RESTORED
    sp = network.sps["T1"][2]
    # When a T1 customer calls: still no power
    result = _submit(account_no=sp.account_no)
    # Then a single-premise child outage is opened under the partially restored one
    child = result.outage
    assert result.report.status == R.PREDICTED
    assert child.parent_id == outage.pk
    assert child.service_point_id == sp.pk
    assert child.status == Outage.Status.PREDICTED
    assert child.customers_affected == 1


def test_a_second_call_of_the_nested_customer_merges_into_the_child(network):
    outage = _declare(network, "S1")
    services.outage_restore_device(outage=outage, device=network["T1"], actor=None)
    sp = network.sps["T1"][0]
    child = _submit(account_no=sp.account_no).outage
    again = _submit(account_no=sp.account_no, contact_phone="13900139000")
    assert again.report.status == R.MERGED
    assert again.outage.pk == child.pk


def test_a_failure_after_saving_keeps_the_report(
    network, monkeypatch, event_log, django_capture_on_commit_callbacks
):
    def broken(*args):
        raise RuntimeError("network model unavailable")

    monkeypatch.setattr(intake.placement, "_placement_from", broken)
    with django_capture_on_commit_callbacks(execute=True):
        result = _submit(account_no=network.sps["T3"][0].account_no, symptom="sparks")
    # Then the report is saved, received, and the danger event still went out
    report = TroubleReport.objects.get(pk=result.report.pk)
    assert report.status == R.RECEIVED
    assert ("report.danger", {"report_id": report.pk, "outage_id": None,
            "service_point_id": None}) in event_log  # fmt: skip


def test_processing_a_received_report_again_places_it_once(network):
    report = TroubleReport.objects.create(
        reference="R20260101-AAAAAA",
        channel="hotline",
        contact_phone="13800138000",
        symptom="no_power",
        raw_account_no=network.sps["T4"][0].account_no,
        received_at=timezone.now(),
    )
    # When the sweeper processes it (twice: a redelivered task)
    services.report_process(report_id=report.pk)
    services.report_process(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == R.PENDING
    assert report.service_point_id == network.sps["T4"][0].pk


def test_staff_intake_with_a_service_point(network, hotline_agent):
    sp = network.sps["T4"][1]
    result = services.report_submit(
        data=_input(channel="hotline", service_point_id=sp.pk, contact_name="李四"),
        actor=hotline_agent,
        idempotency_client=f"user:{hotline_agent.pk}",
    )
    assert result.report.service_point_id == sp.pk
    assert result.report.created_by == hotline_agent
    assert result.report.status == R.PENDING


def test_agent_resolves_a_report_and_it_merges(network, hotline_agent):
    outage = _declare(network, "FU")
    report = _submit(address="说不清楚的地方").report
    assert report.status == R.NEEDS_RESOLUTION
    # When the agent finds the premise
    resolved = services.report_resolve(
        report_id=report.pk, service_point=network.sps["T4"][0], actor=hotline_agent
    )
    assert resolved.status == R.MERGED
    assert resolved.outage_id == outage.pk
    # And a second resolution is refused
    with pytest.raises(Conflict):
        services.report_resolve(
            report_id=report.pk, service_point=network.sps["T4"][1], actor=hotline_agent
        )


def test_pending_report_triggers_the_rollup_after_commit(
    network, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("outages.services.rollup_service.rollup_request", lambda: calls.append(1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submit(account_no=network.sps["T3"][0].account_no)
    assert calls == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert calls == [1]


def test_service_area_check():
    assert intake.in_service_area(22.5431, 114.0579)  # Futian
    assert intake.in_service_area(22.7, 113.85)  # Bao'an
    assert not intake.in_service_area(23.13, 113.26)  # Guangzhou


def test_the_sweeper_processes_a_report_left_received(
    network, event_log, django_capture_on_commit_callbacks
):
    from outages.tasks.intake import rollup_sweep_task

    sp = network.sps["T4"][1]
    stuck = TroubleReport.objects.create(
        reference="R20260101-BBBBBB",
        channel="web",
        contact_phone="13800138000",
        symptom="sparks",
        raw_account_no=sp.account_no,
        received_at=timezone.now() - timedelta(minutes=5),
    )
    fresh = TroubleReport.objects.create(
        reference="R20260101-CCCCCC",
        channel="web",
        contact_phone="13800138000",
        symptom="no_power",
        raw_account_no=sp.account_no,
        received_at=timezone.now(),
    )
    # When beat runs the sweeper (tasks run eagerly after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        rollup_sweep_task()
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    # Then the stuck report is placed (and rolled up: one of T4's two customers called, half
    # of them), its danger event goes out; a fresh one is left alone
    assert (stuck.status, stuck.service_point_id) == (R.PREDICTED, sp.pk)
    assert stuck.outage.device_id == network["T4"].pk
    assert fresh.status == R.RECEIVED
    assert [p["report_id"] for n, p in event_log if n == "report.danger"] == [stuck.pk]


def test_the_fingerprint_is_the_canonical_body_of_the_input():
    import hashlib
    from dataclasses import asdict

    data = _input(account_no="075500000001", lat=None, description="停电了")
    body = json.dumps(asdict(data), sort_keys=True, ensure_ascii=False, default=str)
    # Stored fingerprints must keep matching their retries
    assert data.fingerprint() == hashlib.sha256(body.encode()).hexdigest()
    assert _input(account_no="075500000002").fingerprint() != data.fingerprint()


@pytest.mark.parametrize(
    "bad", [{"contact_name": "名" * 65}, {"symptom": "smoke"}, {"contact_phone": ""}]
)
def test_a_caller_without_a_serializer_still_gets_the_field_checks(network, bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        _submit(account_no=network.sps["T3"][0].account_no, **bad)
    assert set(err.value.message_dict) == {
        {"contact_name": "contact_name", "symptom": "symptom", "contact_phone": "contact_phone"}[
            next(iter(bad))
        ]
    }
    assert not TroubleReport.objects.exists()


def test_the_inserted_report_is_the_stored_row(network, hotline_agent):
    sp = network.sps["T3"][0]
    result = services.report_submit(
        data=_input(channel="hotline", account_no=sp.account_no, contact_name="王五"),
        actor=hotline_agent,
        idempotency_client=f"user:{hotline_agent.pk}",
        idempotency_key="k-row",
    )
    report = result.report
    stored = TroubleReport.objects.get(pk=report.pk)
    for name in ("reference", "status", "service_point_id", "created_by_id", "contact_name",
                 "idempotency_key", "request_fingerprint", "received_at", "resolved_at",
                 "created_at", "updated_at"):  # fmt: skip
        assert getattr(report, name) == getattr(stored, name), name
    assert report.created_at is not None
    assert report.created_by_id == hotline_agent.pk
