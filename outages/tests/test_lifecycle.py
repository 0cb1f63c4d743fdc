"""The outage state machine: every transition allowed and refused, compare-and-set, ETR."""

import itertools
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    TransitionNotAllowed,
)
from grids.tests.factories import ServicePointFactory
from outages import services
from outages.models import EtrChange, Interruption, Outage, OutageEvent
from outages.tests.factories import OutageFactory, outage_cause

pytestmark = pytest.mark.django_db

S = Outage.Status
ALL = list(S)
PLANNED_STATES = {S.SCHEDULED, S.NOTIFIED, S.IN_PROGRESS}


def outage_in(status: str) -> Outage:
    """A consistent outage in ``status``: timestamps, planned window and two interruptions,
    one of them already ended (so partial restoration is a fact)."""
    now = timezone.now()
    planned = status in PLANNED_STATES
    started = None if status in (S.SCHEDULED, S.NOTIFIED) else now - timedelta(hours=2)
    outage = OutageFactory(
        status=status,
        source=Outage.Source.PLANNED if planned else Outage.Source.DISPATCHER,
        started_at=started,
        restored_at=now - timedelta(minutes=30) if status in (S.RESTORED, S.CLOSED) else None,
        closed_at=now - timedelta(minutes=10) if status in Outage.TERMINAL else None,
        planned_start_at=(started or now + timedelta(days=8)) if planned else None,
        planned_end_at=(started or now + timedelta(days=8)) + timedelta(hours=4)
        if planned
        else None,
    )
    ended = now - timedelta(hours=1) if started else None
    for end in (ended, None):
        Interruption.objects.create(
            outage=outage,
            root=outage,
            service_point=ServicePointFactory(),
            started_at=started,
            ended_at=end if status not in (S.RESTORED, S.CLOSED) else ended,
        )
    return outage


@pytest.mark.parametrize(("current", "to"), list(itertools.product(ALL, ALL)))
def test_transition_table(current, to, dispatcher):
    outage = outage_in(current)
    allowed = to in Outage.ALLOWED_TRANSITIONS[current]
    if not allowed:
        with pytest.raises(TransitionNotAllowed):
            services.outage_transition(outage=outage, to=to, actor=dispatcher, reason="x")
        outage.refresh_from_db()
        assert outage.status == current
        assert not outage.events.exists()
        return
    version = outage.version
    result = services.outage_transition(outage=outage, to=to, actor=dispatcher, reason="why")
    assert result.status == to
    assert result.version > version
    line = result.events.get(kind=OutageEvent.Kind.STATUS_CHANGED)
    assert (line.from_status, line.to_status, line.reason) == (current, to, "why")
    assert line.actor == dispatcher
    assert line.actor_label == dispatcher.username
    assert (result.restored_at is not None) == (to in (S.RESTORED, S.CLOSED))
    assert (result.closed_at is not None) == (to in Outage.TERMINAL)
    active = Interruption.objects.filter(outage=result, started_at__isnull=False, ended_at=None)
    if to in (S.RESTORED, S.CANCELLED):
        assert not active.exists()
    if to == S.IN_PROGRESS:
        assert result.started_at is not None
        assert not Interruption.objects.filter(outage=result, started_at=None).exists()


def test_table_is_documented_and_consistent():
    assert set(Outage.ALLOWED_TRANSITIONS) == set(S)
    assert {S.CLOSED, S.CANCELLED} == Outage.TERMINAL
    assert Outage.ACTIVE <= Outage.OPEN
    for status in Outage.TERMINAL:
        assert not Outage.ALLOWED_TRANSITIONS[status]
    for status in Outage.OPEN - {S.RESTORED}:
        assert S.CANCELLED in Outage.ALLOWED_TRANSITIONS[status]


def test_partially_restored_needs_an_actual_partial_restoration():
    outage = OutageFactory(status=S.CONFIRMED)
    Interruption.objects.create(
        outage=outage,
        root=outage,
        service_point=ServicePointFactory(),
        started_at=outage.started_at,
    )
    with pytest.raises(TransitionNotAllowed):
        services.outage_transition(outage=outage, to=S.PARTIALLY_RESTORED, actor=None)


def test_stale_copy_gets_concurrent_update():
    # Given two copies of the same confirmed outage
    first = OutageFactory(status=S.CONFIRMED)
    second = Outage.objects.get(pk=first.pk)
    # When the first moves it on
    services.outage_transition(outage=first, to=S.CREW_DISPATCHED, actor=None)
    # Then the stale second copy conflicts and changes nothing
    with pytest.raises(ConcurrentUpdate):
        services.outage_transition(outage=second, to=S.CREW_DISPATCHED, actor=None)
    fresh = Outage.objects.get(pk=first.pk)
    assert fresh.status == S.CREW_DISPATCHED
    assert fresh.events.filter(kind=OutageEvent.Kind.STATUS_CHANGED).count() == 1


def test_restored_at_cannot_precede_the_start():
    outage = OutageFactory(status=S.CREW_ON_SITE)
    with pytest.raises(DomainError) as exc:
        services.outage_restore(
            outage=outage, actor=None, at=outage.started_at - timedelta(minutes=1)
        )
    assert "at" in exc.value.fields


def test_future_timestamps_are_refused():
    outage = OutageFactory(status=S.CREW_ON_SITE)
    with pytest.raises(DomainError):
        services.outage_restore(outage=outage, actor=None, at=timezone.now() + timedelta(hours=1))


@pytest.mark.parametrize(
    "fields",
    [
        {"status": S.RESTORED},  # restored without restored_at
        {"status": S.CONFIRMED, "restored_at": timezone.now()},
        {"status": S.CLOSED, "restored_at": timezone.now()},  # closed without closed_at
        {"status": S.CONFIRMED, "started_at": None},
        {
            "status": S.SCHEDULED,
            "started_at": None,
            "planned_start_at": timezone.now() + timedelta(days=8),
            "planned_end_at": timezone.now() + timedelta(days=7),
        },
        {"customers_affected": 1, "customers_restored": 2},
    ],
)
def test_check_constraints_guard_the_invariants(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        OutageFactory(**fields)


def test_etr_history_and_timeline(dispatcher, event_log, django_capture_on_commit_callbacks):
    outage = OutageFactory(status=S.CREW_DISPATCHED)
    first = timezone.now() + timedelta(hours=2)
    second = first + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.outage_set_etr(outage=outage, etr=first, actor=dispatcher, reason="crew estimate")
        services.outage_set_etr(outage=outage, etr=second, actor=dispatcher, reason="cable joint")
        services.outage_set_etr(outage=outage, etr=second, actor=dispatcher)  # no change
    history = list(EtrChange.objects.filter(outage=outage).values_list("old_etr", "new_etr"))
    assert history == [(None, first), (first, second)]
    outage.refresh_from_db()
    assert outage.etr == second
    assert outage.events.filter(kind=OutageEvent.Kind.ETR_CHANGED).count() == 2
    etr_events = [p for name, p in event_log if name == "outage.etr_changed"]
    assert etr_events[-1] == {
        "outage_id": outage.pk,
        "etr": second.isoformat(),
        "previous": first.isoformat(),
    }


def test_etr_in_the_past_is_refused_with_a_clear_error():
    outage = OutageFactory(status=S.CONFIRMED)
    with pytest.raises(DomainError) as exc:
        services.outage_set_etr(
            outage=outage, etr=timezone.now() - timedelta(minutes=1), actor=None
        )
    assert exc.value.code == "etr_in_past"
    assert exc.value.fields["etr"]
    assert not EtrChange.objects.exists()


def test_etr_only_while_customers_are_out():
    outage = outage_in(S.RESTORED)
    with pytest.raises(Conflict):
        services.outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=1), actor=None)


def test_cause_and_description_are_recorded_on_the_timeline(dispatcher):
    outage = OutageFactory()
    version = outage.version
    cause = outage_cause("tree_contact")
    outage = services.outage_set_cause(outage=outage, cause=cause, actor=dispatcher)
    outage = services.outage_set_description(outage=outage, description="树障", actor=dispatcher)
    assert outage.cause == cause
    assert outage.description == "树障"
    assert outage.version == version + 2
    kinds = list(outage.events.values_list("kind", flat=True))
    assert kinds == [OutageEvent.Kind.CAUSE_SET, OutageEvent.Kind.DESCRIPTION_CHANGED]


@pytest.mark.parametrize(
    ("current", "to", "allowed"),
    [
        # the fault path, step by step
        (S.PREDICTED, S.CONFIRMED, True),
        (S.CONFIRMED, S.CREW_DISPATCHED, True),
        (S.CREW_DISPATCHED, S.CREW_ON_SITE, True),
        (S.CREW_ON_SITE, S.PARTIALLY_RESTORED, True),
        (S.PARTIALLY_RESTORED, S.RESTORED, True),
        (S.RESTORED, S.CLOSED, True),
        # the planned path
        (S.SCHEDULED, S.NOTIFIED, True),
        (S.NOTIFIED, S.IN_PROGRESS, True),
        (S.IN_PROGRESS, S.RESTORED, True),
        # the dispatcher's shortcuts
        (S.CONFIRMED, S.CREW_ON_SITE, True),
        (S.CREW_DISPATCHED, S.RESTORED, True),
        (S.CREW_DISPATCHED, S.CONFIRMED, True),
        (S.PREDICTED, S.CREW_DISPATCHED, True),
        # never
        (S.PARTIALLY_RESTORED, S.CREW_ON_SITE, False),
        (S.RESTORED, S.CANCELLED, False),
        (S.CLOSED, S.RESTORED, False),
        (S.CANCELLED, S.CONFIRMED, False),
        (S.SCHEDULED, S.RESTORED, False),
        (S.NOTIFIED, S.CONFIRMED, False),
        (S.PREDICTED, S.CLOSED, False),
        (S.CONFIRMED, S.IN_PROGRESS, False),
    ],
)
def test_required_paths_of_the_issue(current, to, allowed):
    assert (to in Outage.ALLOWED_TRANSITIONS[current]) is allowed
