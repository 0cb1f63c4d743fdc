"""The crew app's actions as services (workorders.services.crew_actions) and the expected
version passed into the compare-and-set."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, PermissionDenied
from grids.models import Device
from workorders import services
from workorders.models import CrewActionRecord, WorkOrder
from workorders.tests.factories import make_crew, make_order

pytestmark = pytest.mark.usefixtures("wo_reference")

S = WorkOrder.Status


def _assigned(crew):
    order = make_order()
    services.work_order_assign(order=order, crew=crew, actor=None)
    order.refresh_from_db()
    return order


def _answer(order):
    return {"id": order.pk, "status": order.status}


@pytest.mark.parametrize(
    ("request_kwargs", "field"),
    [
        ({"action": "accept", "photos": [SimpleUploadedFile("a.jpg", b"x")]}, "photos"),
        ({"action": "restore", "note": "x", "cause": object()}, "cause"),
        ({"action": "findings", "note": "x", "device": Device(code="D1")}, "device"),
        ({"action": "findings"}, "cause"),
    ],
)
def test_fields_that_do_not_go_with_the_action_are_refused(request_kwargs, field):
    with pytest.raises(DomainError) as refused:
        services.crew_action_check(services.CrewAction(**request_kwargs))
    assert refused.value.code == "invalid"
    assert field in refused.value.fields


def test_an_action_runs_once_per_key_and_is_refused_on_another_crews_order(crew):
    actor = User.objects.create_user("crew-actor")
    order = _assigned(crew)
    request = services.CrewAction(action="accept", lat=22.54, lng=114.05)
    # When the crew accepts twice with the same key
    first = services.crew_action_run(
        order=order, crew=crew, actor=actor, request=request, key="k1", answer=_answer
    )
    again = services.crew_action_run(
        order=order, crew=crew, actor=actor, request=request, key="k1", answer=_answer
    )
    # Then it ran once, and the retry got the first answer
    assert first == (200, {"id": order.pk, "status": S.ACCEPTED}, False)
    assert again == (200, {"id": order.pk, "status": S.ACCEPTED}, True)
    assert CrewActionRecord.objects.filter(order=order).count() == 1
    crew.refresh_from_db()
    assert crew.last_located_at is not None
    # Another crew may not act on it
    other = make_crew(dlat=0.01)
    with pytest.raises(PermissionDenied) as denied:
        services.crew_action_run(
            order=order, crew=other, actor=actor, request=request, key=None, answer=_answer
        )
    assert denied.value.code == "not_your_order"


def test_a_stale_expected_version_fails_the_compare_and_set(crew):
    order = make_order()
    seen = order.version
    order.refresh_from_db()
    WorkOrder.objects.filter(pk=order.pk).update(version=seen + 1)
    order.refresh_from_db()
    # The client saw an older version than the row has now
    with pytest.raises(ConcurrentUpdate):
        services.work_order_cancel(order=order, actor=None, reason="x", expected_version=seen)
    order.refresh_from_db()
    assert order.status != S.CANCELLED
    # With the current version it goes through
    services.work_order_cancel(order=order, actor=None, reason="x", expected_version=seen + 1)
    order.refresh_from_db()
    assert (order.status, order.version) == (S.CANCELLED, seen + 2)


def test_dispatch_by_hand_checks_the_expected_version(crew):
    order = make_order()
    with pytest.raises(ConcurrentUpdate):
        services.work_order_dispatch_by_hand(
            order=order, crew=crew, actor=None, expected_version=order.version + 5
        )
    services.work_order_dispatch_by_hand(
        order=order, crew=crew, actor=None, expected_version=order.version
    )
    order.refresh_from_db()
    assert (order.status, order.crew_id) == (S.DISPATCHED, crew.pk)
