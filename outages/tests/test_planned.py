"""Planned and temporary outages: notice rules, notice, start and restoration."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, TransitionNotAllowed
from outages import services
from outages.models import Interruption, Outage, OutageEvent
from outages.tests.factories import outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status


def _plan(network, *, days=8.0, type_code="planned_maintenance", devices=("S1",), **kwargs):
    start = timezone.now() + timedelta(days=days)
    kwargs.setdefault("description", "10kV 线路检修")
    return services.planned_outage_create(
        type=outage_type(type_code),
        devices=[network[d] for d in devices],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=6),
        actor=kwargs.pop("actor", None),
        **kwargs,
    )


def test_planned_outage_stores_customers_to_be_interrupted(network, dispatcher):
    outage = _plan(network, devices=("S1", "S2"), actor=dispatcher)
    assert outage.status == S.SCHEDULED
    assert outage.source == Outage.Source.PLANNED
    assert outage.started_at is None
    rows = Interruption.objects.filter(outage=outage)
    assert set(rows.values_list("service_point_id", flat=True)) == network.below("T1", "T2", "T3")
    assert not rows.filter(started_at__isnull=False).exists()
    assert outage.customers_affected == 9
    assert outage.area is not None
    assert outage.notice_override_reason == ""


def test_planned_outage_under_seven_days_is_refused(network):
    with pytest.raises(DomainError) as exc:
        _plan(network, days=6)
    assert exc.value.code == "notice_too_short"
    assert "planned_start_at" in exc.value.fields
    assert not Outage.objects.exists()


def test_planned_outage_under_seven_days_accepted_with_recorded_override(network, dispatcher):
    outage = _plan(network, days=2, override_reason="抢修配合，经主任批准", actor=dispatcher)
    assert outage.status == S.SCHEDULED
    assert outage.notice_override_reason == "抢修配合，经主任批准"
    line = outage.events.get(kind=OutageEvent.Kind.NOTICE_OVERRIDDEN)
    assert line.reason == "抢修配合，经主任批准"
    assert line.actor == dispatcher
    assert 47 < line.data["lead_hours"] < 49


def test_temporary_outage_needs_24h_only_with_important_customers(network):
    # T4 (behind the fuse) has an important customer; T3 (behind S2) has none
    with pytest.raises(DomainError):
        _plan(network, days=0.5, type_code="temporary_maintenance", devices=("FU",))
    ok = _plan(network, days=0.5, type_code="temporary_maintenance", devices=("S2",))
    assert ok.status == S.SCHEDULED
    assert ok.notice_override_reason == ""
    overridden = _plan(
        network, days=0.5, type_code="temporary_maintenance", devices=("FU",), override_reason="r"
    )
    assert overridden.notice_override_reason == "r"


def test_fault_types_bad_windows_and_missing_devices_are_refused_per_field(network):
    start = timezone.now() + timedelta(days=8)
    with pytest.raises(DomainError) as exc:
        services.planned_outage_create(
            type=outage_type("fault_mv_feeder"),
            devices=[],
            planned_start_at=start,
            planned_end_at=start - timedelta(hours=1),
            description="",
            actor=None,
        )
    assert set(exc.value.fields) == {"type", "devices", "planned_end_at", "description"}


def test_publish_notice_moves_to_notified(network, dispatcher, event_log):
    outage = _plan(network)
    outage = services.planned_outage_publish_notice(outage=outage, actor=dispatcher)
    assert outage.status == S.NOTIFIED
    assert outage.notice_published_at is not None
    assert outage.events.filter(kind=OutageEvent.Kind.NOTICE_PUBLISHED).exists()
    with pytest.raises(TransitionNotAllowed):
        services.planned_outage_publish_notice(outage=outage, actor=dispatcher)


def test_late_notice_needs_a_reason_unless_one_was_recorded(network):
    outage = _plan(network)
    # Given time passed: the start is now 3 days away and the notice is not out
    Outage.objects.filter(pk=outage.pk).update(
        planned_start_at=timezone.now() + timedelta(days=3),
        planned_end_at=timezone.now() + timedelta(days=3, hours=4),
    )
    outage.refresh_from_db()
    with pytest.raises(DomainError):
        services.planned_outage_publish_notice(outage=outage, actor=None)
    outage = services.planned_outage_publish_notice(
        outage=outage, actor=None, override_reason="设备缺陷需尽快处理"
    )
    assert outage.status == S.NOTIFIED
    assert outage.notice_override_reason == "设备缺陷需尽快处理"


def test_start_and_end_of_a_planned_outage(network):
    outage = services.planned_outage_publish_notice(outage=_plan(network), actor=None)
    # When it starts
    outage = services.planned_outage_start(outage=outage)
    # Then its interruptions start with it, and a second start changes nothing
    assert outage.status == S.IN_PROGRESS
    rows = Interruption.objects.filter(outage=outage)
    assert set(rows.values_list("started_at", flat=True)) == {outage.started_at}
    with pytest.raises(TransitionNotAllowed):
        services.planned_outage_start(outage=outage)
    outage = services.outage_restore(outage=outage, actor=None)
    assert outage.status == S.RESTORED
    assert not rows.filter(ended_at__isnull=True).exists()


def test_start_with_a_stale_copy_is_a_conflict(network):
    outage = _plan(network)
    stale = Outage.objects.get(pk=outage.pk)
    services.planned_outage_start(outage=outage)
    with pytest.raises(ConcurrentUpdate):
        services.planned_outage_start(outage=stale)


def test_planned_start_does_not_count_customers_already_out(network):
    # Given a planned outage on S1 (T1, T2), and T1's transformer fails before it starts
    outage = _plan(network)
    assert outage.customers_affected == 6
    fault = services.outage_create(
        type=outage_type("fault_transformer"),
        device=network["T1"],
        source=Outage.Source.CREW,
        actor=None,
        status=S.CONFIRMED,
    )
    # When the planned outage starts
    outage = services.planned_outage_start(outage=outage)
    # Then T1's customers are marked as already out, and counted once
    rows = Interruption.objects.filter(outage=outage)
    marked = set(rows.filter(already_out_in=fault).values_list("service_point_id", flat=True))
    assert marked == network.below("T1")
    assert outage.customers_affected == 3
