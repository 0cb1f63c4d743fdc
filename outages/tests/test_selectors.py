"""Reads: active outages, detail, the outage of a customer, planned outages, counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import NotFound
from outages import selectors, services
from outages.models import Outage
from outages.tests.factories import outage_type

pytestmark = pytest.mark.django_db

S = Outage.Status


def _fault(net, code, status=S.CONFIRMED):
    return services.outage_create(
        type=outage_type("fault_mv_feeder"),
        device=net[code],
        source=Outage.Source.SCADA,
        actor=None,
        status=status,
    )


def _planned(net, code, days):
    start = timezone.now() + timedelta(days=days)
    return services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[net[code]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="检修",
        actor=None,
        override_reason="test" if days < 7 else "",
    )


def test_active_list_and_filters(network):
    feeder = _fault(network, "S1")
    other = _fault(network, "S2", status=S.PREDICTED)
    done = services.outage_restore(outage=_fault(network, "FU"), actor=None)
    planned = _planned(network, "S1", 8)
    assert list(selectors.outage_list_active()) == [feeder, other]
    assert set(selectors.outage_list(filters={"active": True})) == {feeder, other}
    assert set(selectors.outage_list(filters={"active": False})) == {done, planned}
    assert list(selectors.outage_list(filters={"status": ["predicted"]})) == [other]
    assert list(selectors.outage_list(filters={"category": "planned"})) == [planned]
    assert set(selectors.outage_list(filters={"type": "fault_mv_feeder"})) == {feeder, other, done}
    district = network.sps["T1"][0].district_id
    assert selectors.outage_list(filters={"district": district}).count() == 4
    assert selectors.outage_list(filters={"district": district + 1}).count() == 0


def test_detail_prefetches_the_timeline(network, django_assert_num_queries):
    outage = _fault(network, "S1")
    services.outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=1), actor=None)
    with django_assert_num_queries(5):
        detail = selectors.outage_get_detail(outage_id=outage.pk)
        kinds = [e.kind for e in detail.events.all()]
        etrs = list(detail.etr_changes.all())
        list(detail.extra_devices.all())
        list(detail.children.all())
    assert kinds == ["created", "etr_changed"]
    assert len(etrs) == 1
    with pytest.raises(NotFound):
        selectors.outage_get_detail(outage_id=outage.pk + 100)


def test_planned_outages_for_a_customer_in_the_next_days(network):
    soon = _planned(network, "S1", 3)
    later = _planned(network, "S2", 20)
    sp_t1, sp_t3 = network.sps["T1"][0], network.sps["T3"][0]
    assert list(selectors.planned_outages_for_service_point(service_point=sp_t1)) == [soon]
    assert list(selectors.planned_outages_for_service_point(service_point=sp_t3)) == []
    assert list(selectors.planned_outages_for_service_point(service_point=sp_t3, days=30)) == [
        later
    ]
    # the public sees only published notices
    assert not selectors.planned_outages_for_service_point(
        service_point=sp_t1, published_only=True
    ).exists()
    services.planned_outage_publish_notice(outage=soon, actor=None)
    assert selectors.planned_outages_for_service_point(
        service_point=sp_t1, published_only=True
    ).exists()


def test_counts_by_district_count_each_customer_once(network):
    _fault(network, "T1")
    _fault(network, "S1")  # overlaps T1
    rows = {r["district_id"]: r for r in selectors.outage_counts_by_district()}
    district = network.sps["T1"][0].district_id
    assert rows[district]["outages"] == 2
    assert rows[district]["customers_out"] == 6


def test_due_planned_outages(network):
    outage = _planned(network, "S1", 8)
    assert selectors.planned_outage_ids_due_to_start() == []
    later = timezone.now() + timedelta(days=8, minutes=1)
    assert selectors.planned_outage_ids_due_to_start(now=later) == [outage.pk]
    assert selectors.planned_outage_ids_due_to_end(now=later + timedelta(hours=5)) == []
