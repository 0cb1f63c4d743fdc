"""The return visit on a closed order: the service, the agent page's form and what the page
shows through ``outages.providers.return_visits``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.tests.factories import ServicePointFactory
from outages.models import Outage
from outages.providers import return_visits
from outages.services import outage_create
from outages.tests.conftest import build_network
from outages.tests.factories import outage_type
from workorders import services
from workorders.models import SatisfactionVisit, WorkOrder, WorkOrderEvent
from workorders.tests.factories import force_status, make_crew, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status
VISITS = "/agent/return-visits"


def _closed(service_point=None, *, crew=None, **kwargs) -> WorkOrder:
    order = make_order(service_point=service_point, **kwargs)
    return force_status(
        order, S.CLOSED, crew=crew or make_crew(), closed_at=timezone.now() - timedelta(hours=1)
    )


# --- the service -----------------------------------------------------------------------------


def test_a_satisfied_customer_is_recorded_on_the_closed_order(hotline_agent):
    # Given a closed premise order
    sp = ServicePointFactory()
    order = _closed(sp)
    # When the agent records the return visit
    visit = services.work_order_satisfaction_record(
        order=order, service_point=sp, actor=hotline_agent, satisfied=True, note=" 很满意 "
    )
    # Then who, when, satisfied and the note are kept, the order stays closed, and its
    # timeline says so
    visit.refresh_from_db()
    assert (visit.agent_id, visit.satisfied, visit.note) == (hotline_agent.pk, True, "很满意")
    assert abs((timezone.now() - visit.at).total_seconds()) < 60
    assert WorkOrder.objects.get(pk=order.pk).status == S.CLOSED
    event = WorkOrderEvent.objects.filter(order=order, kind="return_visit").get()
    assert event.data == {"satisfied": True, "service_point": sp.pk}
    assert event.actor_id == hotline_agent.pk


@pytest.mark.parametrize("status", [S.CREATED, S.DISPATCHED, S.COMPLETED, S.CANCELLED])
def test_an_order_not_closed_is_refused(hotline_agent, status):
    sp = ServicePointFactory()
    order = force_status(make_order(service_point=sp), status, crew=make_crew())
    with pytest.raises(DomainError) as caught:
        services.work_order_satisfaction_record(
            order=order, service_point=sp, actor=hotline_agent, satisfied=False
        )
    assert caught.value.code == "not_closed"
    assert SatisfactionVisit.objects.count() == 0


def test_a_second_visit_for_the_same_customer_is_a_conflict(hotline_agent):
    sp = ServicePointFactory()
    order = _closed(sp)
    services.work_order_satisfaction_record(
        order=order, service_point=sp, actor=hotline_agent, satisfied=False, note="太慢"
    )
    with pytest.raises(Conflict):
        services.work_order_satisfaction_record(
            order=order, service_point=sp, actor=hotline_agent, satisfied=True
        )
    assert SatisfactionVisit.objects.get().satisfied is False


# --- what the agent's page sees --------------------------------------------------------------


def test_the_provider_lists_the_premise_orders_and_the_outage_repairs(hotline_agent):
    # Given a premise with a closed order of its own, and an outage that had it out whose
    # repair order is closed too; and an old order closed long ago, and another premise's
    network = build_network()
    sp = network.sps["T1"][0]
    own = _closed(sp, title="表箱烧坏")
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S1"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
    )
    repair = _closed(outage=outage, kind=WorkOrder.Kind.OUTAGE_REPAIR, title="电缆抢修")
    old = _closed(sp)
    WorkOrder.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=40))
    _closed(network.sps["T4"][0])
    services.work_order_satisfaction_record(
        order=own, service_point=sp, actor=hotline_agent, satisfied=True
    )
    # When the agent's page asks through the hook
    rows = return_visits.closed_orders_for_service_point(sp.pk)
    # Then both recent orders are there, the recorded visit with its agent
    assert sorted(r["order_id"] for r in rows) == sorted([own.pk, repair.pk])
    by_id = {r["order_id"]: r for r in rows}
    assert by_id[own.pk]["visit"]["satisfied"] is True
    assert by_id[own.pk]["visit"]["agent"] == hotline_agent.username
    assert by_id[repair.pk]["visit"] is None


def test_the_agent_records_a_return_visit_from_the_page(client, hotline_agent):
    sp = ServicePointFactory()
    order = _closed(sp)
    client.force_login(hotline_agent)
    page = client.get("/agent/", {"sp": sp.pk}).content.decode()
    assert f'name="order" value="{order.pk}"' in page
    response = client.post(
        VISITS,
        {"order": order.pk, "service_point": sp.pk, "satisfied": "no", "note": "等太久"},
    )
    assert response.status_code == 302
    assert f"sp={sp.pk}" in response["Location"]
    visit = SatisfactionVisit.objects.get()
    assert (visit.order_id, visit.satisfied, visit.note) == (order.pk, False, "等太久")
    page = client.get(response["Location"]).content.decode()
    assert "不满意" in page
    assert f'name="order" value="{order.pk}"' not in page


def test_an_order_of_another_premise_cannot_be_visited(client, hotline_agent):
    sp, other = ServicePointFactory(), ServicePointFactory()
    order = _closed(other)
    client.force_login(hotline_agent)
    client.post(VISITS, {"order": order.pk, "service_point": sp.pk, "satisfied": "yes"})
    assert SatisfactionVisit.objects.count() == 0


@pytest.mark.parametrize("user", ["outsider", "crew_user"])
def test_other_roles_cannot_record_a_visit(client, request, user):
    sp = ServicePointFactory()
    order = _closed(sp)
    client.force_login(request.getfixturevalue(user))
    response = client.post(VISITS, {"order": order.pk, "service_point": sp.pk, "satisfied": "yes"})
    assert response.status_code == 403
    assert SatisfactionVisit.objects.count() == 0
