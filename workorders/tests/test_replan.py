"""The rolling horizon wired to the database: the storm batch plans the offers no crew has
accepted yet together with new arrivals, and moves one only when the gain is worth it, never
an accepted, manual or refused one, never beyond a crew's capacity."""

from datetime import timedelta

import pytest
from django.utils import timezone

from workorders import selectors, services
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent
from workorders.services import replan
from workorders.tests.factories import force_status, make_crew, make_grid, make_order, skill

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


@pytest.fixture
def storm(settings):
    settings.WORKORDERS_STORM_THRESHOLD = 0
    settings.WORKORDERS_REPLAN_MIN_GAIN_MINUTES = 2.0


def _state(order):
    return WorkOrder.objects.filter(pk=order.pk).values_list("status", "crew_id").get()


def _offer_then_arrival():
    """Crew A near order 1's spot, crew B farther east. Order 1 arrives first and is offered
    A; order 2 then arrives right on A, while B is close to order 1."""
    a = make_crew(capacity=1)
    b = make_crew(dlng=0.03, capacity=1)
    first = make_order(dlng=0.012)
    services.work_orders_dispatch_batch()
    assert _state(first) == (S.DISPATCHED, a.pk)
    second = make_order()
    return a, b, first, second


def test_a_new_arrival_moves_an_offer_not_yet_accepted_when_it_gains_enough(storm):
    a, b, first, second = _offer_then_arrival()
    dispatched_at = WorkOrder.objects.get(pk=first.pk).dispatched_at
    # When the next batch runs
    stats = services.work_orders_dispatch_batch()
    # Then the offer moved to B and the new order got A: one move, one new assignment
    assert stats["replanned"] == 1
    assert _state(first) == (S.DISPATCHED, b.pk)
    assert _state(second) == (S.DISPATCHED, a.pk)
    moved = WorkOrder.objects.get(pk=first.pk)
    assert moved.dispatched_at == dispatched_at  # dispatched since the first offer
    assert moved.offer_expires_at > timezone.now() + timedelta(minutes=4)
    decision = DispatchDecision.objects.filter(order=first).latest("at", "pk")
    assert (decision.crew_id, decision.data["replanned_from"]) == (b.pk, a.pk)
    event = first.events.filter(kind=WorkOrderEvent.Kind.DISPATCH_DECISION).get()
    assert (event.data["from_crew"], event.data["to_crew"]) == (a.pk, b.pk)
    # still one dispatch per order on the timeline
    assert first.events.filter(to_status=S.DISPATCHED).count() == 1


def test_an_offer_stays_when_the_gain_is_below_the_threshold(storm, settings):
    settings.WORKORDERS_REPLAN_MIN_GAIN_MINUTES = 60.0
    a, b, first, second = _offer_then_arrival()
    stats = services.work_orders_dispatch_batch()
    assert stats["replanned"] == 0
    assert _state(first) == (S.DISPATCHED, a.pk)
    assert _state(second) == (S.DISPATCHED, b.pk)


@pytest.mark.parametrize("how", ["accepted", "manual", "refused", "urgent"])
def test_offers_the_horizon_must_not_move(storm, dispatcher, how):
    a, b, first, second = _offer_then_arrival()
    if how == "accepted":
        force_status(first, S.ACCEPTED, crew=a)
    elif how == "manual":
        first.refresh_from_db()
        force_status(first, S.CREATED)
        services.work_order_assign(order=first, crew=a, actor=dispatcher)
    elif how == "refused":
        DispatchRefusal.objects.create(
            order=first, crew=b, reason=DispatchRefusal.Reason.REJECTED, at=timezone.now()
        )
    else:
        WorkOrder.objects.filter(pk=first.pk).update(priority=1)
    services.work_orders_dispatch_batch()
    assert _state(first)[1] == a.pk
    assert _state(second) == (S.DISPATCHED, b.pk)


def test_an_offer_accepted_between_plan_and_move_is_not_taken_away(storm):
    a, b, first, _second = _offer_then_arrival()
    offered, _offers = replan.standing_offers()
    stale = offered[first.pk]
    # The crew accepts while the batch is planning
    services.work_order_accept(order=WorkOrder.objects.get(pk=first.pk), crew=a, actor=None)
    moved = replan.work_orders_offers_move(moves=[replan.OfferMove(stale, b.pk)])
    assert moved == 0
    assert _state(first) == (S.ACCEPTED, a.pk)


def test_a_move_never_overfills_a_crew(storm):
    a, b, first, _second = _offer_then_arrival()
    offered, _offers = replan.standing_offers()
    force_status(make_order(dlat=0.05), S.ACCEPTED, crew=b)  # B is full now
    assert replan.work_orders_offers_move(moves=[replan.OfferMove(offered[first.pk], b.pk)]) == 0
    assert _state(first) == (S.DISPATCHED, a.pk)


def test_two_crews_can_swap_offers_even_when_both_are_full(storm):
    a = make_crew(capacity=1)
    b = make_crew(dlng=0.03, capacity=1)
    one = force_status(make_order(), S.DISPATCHED, crew=a)
    two = force_status(make_order(dlng=0.03), S.DISPATCHED, crew=b)
    moved = replan.work_orders_offers_move(
        moves=[
            replan.OfferMove(replan.StandingOffer.of(one), b.pk),
            replan.OfferMove(replan.StandingOffer.of(two), a.pk),
        ]
    )
    assert moved == 2
    assert (_state(one)[1], _state(two)[1]) == (b.pk, a.pk)


def test_dispatch_requests_read_as_values_equal_the_ones_built_from_instances():
    grid = make_grid(center_lat=22.6, center_lng=114.1)
    located = make_order(dlat=0.01)
    on_grid = make_order(grid=grid)
    WorkOrder.objects.filter(pk=on_grid.pk).update(lat=None, lng=None, priority=1)
    nowhere = make_order()
    WorkOrder.objects.filter(pk=nowhere.pk).update(lat=None, lng=None, grid=None)
    cable = make_order(skill_needed=skill("cable"), dlng=0.02)
    orders = WorkOrder.objects.filter(
        pk__in=[located.pk, on_grid.pk, nowhere.pk, cable.pk]
    ).order_by("pk")
    read = selectors.work_order_dispatch_requests(orders, extra=("version",))
    built = [selectors.work_order_dispatch_request(o) for o in orders.select_related("grid")]
    assert [request for _row, request in read] == built
    urgent_on_grid, cable_request = built[1], built[3]
    assert urgent_on_grid is not None
    assert urgent_on_grid.urgent
    assert (urgent_on_grid.lat, urgent_on_grid.lng) == (22.6, 114.1)
    assert built[2] is None
    assert cable_request is not None
    assert cable_request.skill_needed == "cable"
    assert [row["version"] for row, _request in read] == [o.version for o in orders]
