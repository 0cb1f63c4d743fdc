"""Affected customers: creation, counts, partial restoration, nesting, overlaps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.services import device_set_open
from outages import selectors, services
from outages.models import Interruption, Outage, OutageEvent
from outages.services import common
from outages.tests.factories import outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status


def _active(outage):
    return set(
        Interruption.objects.filter(
            outage=outage, started_at__isnull=False, ended_at__isnull=True
        ).values_list("service_point_id", flat=True)
    )


def _declare(net, code, *, user=None, **kwargs):
    kwargs.setdefault("status", S.CONFIRMED)
    return services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net[code],
        source=Outage.Source.DISPATCHER,
        actor=user,
        **kwargs,
    )


def test_feeder_outage_interrupts_everyone_below_the_breaker(network, dispatcher):
    outage = _declare(network, "B", user=dispatcher)
    assert _active(outage) == network.all_sps
    assert outage.customers_affected == 11
    assert outage.customers_restored == 0
    assert outage.district_id == network.sps["T1"][0].district_id
    assert outage.area["type"] == "Polygon"


def test_outage_on_tripped_breaker_counts_what_it_supplied(network):
    # Given the breaker has tripped (opened), so nothing below it is energised
    breaker = device_set_open(device=network["B"], is_open=True)
    # When an outage is declared on it
    outage = _declare(network, "B", started_at=timezone.now() - timedelta(minutes=3))
    # Then its customers are everyone it supplies when closed
    assert _active(outage) == network.all_sps
    assert breaker.is_open


def test_single_premise_outage_has_one_customer(network):
    sp = network.sps["T3"][1]
    outage = services.outage_create(
        type=outage_type("fault_single_premise"),
        device=network["T3"],
        service_point=sp,
        source=Outage.Source.CREW,
        actor=None,
    )
    assert _active(outage) == {sp.pk}
    assert outage.customers_affected == 1


@pytest.mark.parametrize("method", ["sql", "orm"])
def test_both_insert_methods_give_the_same_rows(network, method):
    first = _declare(network, "S1")
    # Given T1-T2 customers out in an independent outage, and one T3 customer too
    other = Outage.objects.create(
        type=first.type,
        status=S.CONFIRMED,
        source=Outage.Source.DISPATCHER,
        device=network["B"],
        started_at=timezone.now(),
    )
    # When the feeder outage inserts its rows with either method
    common.insert_interruptions(
        outage=other,
        service_points=common.scope_service_points(device=network["B"]),
        started_at=other.started_at,
        method=method,
    )
    rows = dict(
        Interruption.objects.filter(outage=other).values_list("service_point_id", "already_out_in")
    )
    # Then everyone gets a row and those already out point at the first outage
    assert set(rows) == network.all_sps
    assert {sp for sp, a in rows.items() if a == first.pk} == network.below("T1", "T2")
    assert {sp for sp, a in rows.items() if a is None} == network.below("T3", "T4")


def test_overlapping_outage_does_not_count_customers_twice(network):
    # Given a transformer outage already has T1's customers out
    small = services.outage_create(
        type=outage_type("fault_transformer"),
        device=network["T1"],
        source=Outage.Source.CREW,
        actor=None,
        status=S.CONFIRMED,
    )
    # When the whole feeder trips
    big = _declare(network, "B")
    # Then T1's customers are counted once, under the outage that cut them off first
    assert big.customers_affected == 11 - 3
    assert small.customers_affected == 3
    assert selectors.outage_for_service_point(service_point=network.sps["T1"][0]) == small
    # and when the feeder is restored they are still out in the transformer outage
    big = services.outage_restore(outage=big, actor=None)
    assert big.status == S.RESTORED
    assert _active(small) == network.below("T1")
    counts = {r["district_id"]: r for r in selectors.outage_counts_by_district()}
    assert counts[network.sps["T1"][0].district_id]["customers_out"] == 3


def test_partial_restoration_ends_exactly_the_interruptions_below_the_device(network, event_log):
    outage = _declare(network, "B")
    before = timezone.now()
    # When switch S2 is restored first
    outage = services.outage_restore_device(outage=outage, device=network["S2"], actor=None)
    # Then exactly T3's customers are back
    ended = set(
        Interruption.objects.filter(outage=outage, ended_at__isnull=False).values_list(
            "service_point_id", flat=True
        )
    )
    assert ended == network.below("T3")
    assert _active(outage) == network.below("T1", "T2", "T4")
    assert outage.status == S.PARTIALLY_RESTORED
    assert (outage.customers_affected, outage.customers_restored) == (11, 3)
    assert Interruption.objects.filter(outage=outage, ended_at__gte=before).count() == 3
    line = outage.events.get(kind=OutageEvent.Kind.DEVICE_RESTORED)
    assert line.data["device"] == "S2"
    assert line.data["customers"] == 3
    # When a device below one already restored is restored again, nothing is left there
    with pytest.raises(DomainError):
        services.outage_restore_device(outage=outage, device=network["T3"], actor=None)
    # When the rest comes back via the breaker
    outage = services.outage_restore_device(outage=outage, device=network["B"], actor=None)
    assert outage.status == S.RESTORED
    assert outage.restored_at is not None
    assert _active(outage) == set()
    assert outage.customers_restored == 11


def test_restore_all_ends_every_interruption_at_the_given_time(network):
    outage = _declare(network, "S1", started_at=timezone.now() - timedelta(hours=2))
    at = timezone.now() - timedelta(minutes=30)
    outage = services.outage_restore(outage=outage, actor=None, at=at)
    assert outage.restored_at == at
    assert set(Interruption.objects.filter(outage=outage).values_list("ended_at", flat=True)) == {
        at
    }


def test_restored_customer_still_off_gets_a_nested_outage(network):
    # Given a feeder outage partially restored: S1 (T1, T2) is back
    parent = _declare(network, "B")
    parent = services.outage_restore_device(outage=parent, device=network["S1"], actor=None)
    caller = network.sps["T1"][0]
    assert selectors.outage_for_service_point(service_point=caller) is None
    # When that customer calls: still no power
    child = services.outage_open_nested(parent=parent, service_point=caller, actor=None)
    # Then a single-premise child outage holds just them
    assert child.parent_id == parent.pk
    assert child.root_id == parent.pk
    assert child.depth == 1
    assert child.type.code == "fault_single_premise"
    assert _active(child) == {caller.pk}
    assert selectors.outage_for_service_point(service_point=caller) == child
    assert parent.events.filter(kind=OutageEvent.Kind.NESTED_OPENED).exists()
    # and a customer still out in the parent cannot be nested: they are counted there
    with pytest.raises(Conflict):
        services.outage_open_nested(parent=parent, service_point=network.sps["T3"][0], actor=None)


def test_nested_outage_takes_over_customers_its_parent_restores(network):
    # Given a feeder outage, and the crew finds transformer T3 burnt as well: a nested outage
    # on T3 opens while T3's customers are still out in the feeder outage
    parent = _declare(network, "B")
    child = services.outage_open_nested(
        parent=parent, device=network["T3"], actor=None, status=S.CONFIRMED
    )
    assert child.type.code == "fault_transformer"
    assert _active(child) == set()
    assert _active(parent) == network.all_sps
    # When the feeder is restored at the breaker
    parent = services.outage_restore_device(outage=parent, device=network["B"], actor=None)
    # Then T3's customers stay out, now in the nested outage, in the same interruption
    assert parent.status == S.RESTORED
    assert _active(child) == network.below("T3")
    child.refresh_from_db()
    assert child.customers_affected == 3
    assert parent.customers_affected == 11 - 3
    assert parent.customers_restored == 11 - 3
    line = parent.events.get(kind=OutageEvent.Kind.DEVICE_RESTORED)
    assert line.data["moved_to_nested"] == {str(child.pk): 3}
    assert selectors.outage_for_service_point(service_point=network.sps["T3"][0]) == child
    # and when T3 is replaced, everyone is back
    child = services.outage_restore_device(outage=child, device=network["T3"], actor=None)
    assert child.status == S.RESTORED
    assert not Interruption.objects.filter(ended_at__isnull=True).exists()


def test_nested_outage_needs_a_device_with_customers_or_a_restored_customer(network):
    parent = _declare(network, "S1")
    with pytest.raises(DomainError):
        services.outage_open_nested(parent=parent, actor=None)
    with pytest.raises(Conflict):
        services.outage_open_nested(parent=parent, service_point=network.sps["T1"][0], actor=None)
    closed = services.outage_transition(
        outage=services.outage_restore(outage=parent, actor=None), to=S.CLOSED, actor=None
    )
    with pytest.raises(Conflict):
        services.outage_open_nested(parent=closed, service_point=network.sps["T1"][0], actor=None)


def test_widening_adds_the_customers_below_the_new_device(network, event_log):
    outage = _declare(network, "S1", status=S.PREDICTED)
    assert outage.customers_affected == 6
    outage = services.outage_widen(outage=outage, device=network["B"], actor=None)
    assert outage.device_id == network["B"].pk
    assert set(outage.extra_devices.values_list("code", flat=True)) == {"S1"}
    assert _active(outage) == network.all_sps
    assert outage.customers_affected == 11
    started = set(Interruption.objects.filter(outage=outage).values_list("started_at", flat=True))
    assert started == {outage.started_at}
    line = outage.events.get(kind=OutageEvent.Kind.CUSTOMERS_ADDED)
    assert line.data["customers"] == 5
