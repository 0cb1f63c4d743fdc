"""Two dispatchers move the same outage at the same moment: exactly one wins (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from dispatch_center.core.exceptions import ConcurrentUpdate
from outages import services
from outages.models import Outage, OutageEvent
from outages.tests.factories import OutageFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("to", [Outage.Status.CREW_DISPATCHED, Outage.Status.RESTORED])
def test_concurrent_transitions_exactly_one_wins(to):
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks of a real server")
    outage = OutageFactory(status=Outage.Status.CONFIRMED)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def move():
        from django.db import connection as thread_connection

        try:
            copy = Outage.objects.get(pk=outage.pk)  # both read "confirmed"
            barrier.wait(timeout=10)
            services.outage_transition(outage=copy, to=to, actor=None)
            results.append("won")
        except ConcurrentUpdate:
            results.append("conflict")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=move) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["conflict", "won"]
    fresh = Outage.objects.get(pk=outage.pk)
    assert fresh.status == to
    assert fresh.events.filter(kind=OutageEvent.Kind.STATUS_CHANGED).count() == 1
