"""The demo's seeded history agrees with itself: an outage's crew state is its repair
order's, never a contradiction such as "crew on site" beside an order still "dispatched"."""

import pytest
from django.core.management import call_command

from outages.models import Outage
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

OS = Outage.Status
S = WorkOrder.Status
# The order states that each crew state of an outage stands for.
CREW_STATE_OF_ORDER = {
    OS.CREW_DISPATCHED: {S.DISPATCHED, S.CLAIMED, S.ACCEPTED, S.EN_ROUTE},
    OS.CREW_ON_SITE: {S.ON_SITE, S.COMPLETED},
}


def _repair_order(outage):
    return (
        WorkOrder.objects.filter(outage=outage, kind=WorkOrder.Kind.OUTAGE_REPAIR)
        .exclude(status__in=WorkOrder.TERMINAL)
        .first()
    )


def test_the_demo_crew_on_site_is_the_repair_orders_state(settings, tmp_path, capsys):
    settings.SNAPSHOT_DIR = tmp_path
    # Given the demo city and its outages
    call_command(
        "seed_demo", service_points=400, feeders_per_grid=1, crews_per_station=1, no_progress=True
    )
    call_command("seed_demo_outages")

    # When the repair story is seeded (twice: it is idempotent)
    call_command("seed_demo_repairs")
    call_command("seed_demo_repairs")

    # Then the cable fault has its crew on site through its order, arrived within the deadline
    cable = Outage.objects.get(cause__code="cable_fault")
    order = _repair_order(cable)
    assert cable.status == OS.CREW_ON_SITE
    assert order.status == S.ON_SITE
    assert order.arrived_at is not None
    assert order.arrived_at <= order.arrive_due_at
    assert order.sla_state == WorkOrder.SlaState.OK
    assert WorkOrder.objects.filter(outage=cable, kind=WorkOrder.Kind.OUTAGE_REPAIR).count() == 1
    # and no outage's crew state contradicts its repair order
    for outage in Outage.objects.filter(status__in=CREW_STATE_OF_ORDER):
        live = _repair_order(outage)
        assert live is not None, outage
        assert live.status in CREW_STATE_OF_ORDER[outage.status], (outage.status, live.status)
    assert "on_site" in capsys.readouterr().out
