"""An outage at a device that supplies no one: created with no interruptions, not a failure.

The roll-up predicts at de-energised devices too (they stand alone in its tree). One with no
transformer below it made the interruptions' insert raise ``EmptyResultSet``, which failed the
whole roll-up run, and every later run that predicted it again: a storm's calls stayed pending.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from grids.models import Device, ServicePoint
from grids.tests.factories import DeviceFactory, NodeFactory
from outages.models import Interruption, Outage
from outages.services import common, outage_create
from outages.tests.factories import outage_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_end(network):
    """A de-energised switch on the network's feeder with nothing below it."""
    breaker = network["B"]
    return DeviceFactory(
        code="S9",
        kind=Device.Kind.LOAD_BREAK_SWITCH,
        feeder=breaker.feeder,
        node_a=breaker.node_b,
        node_b=NodeFactory(),
        energized=False,
    )


def test_a_predicted_outage_at_a_device_below_which_no_one_is_supplied(dead_end):
    assert not common.scope_service_points(device=dead_end).exists()
    outage = outage_create(
        type=outage_type("fault_lv_line"),
        device=dead_end,
        source=Outage.Source.ROLLUP,
        status=Outage.Status.PREDICTED,
        actor=None,
        started_at=timezone.now(),
    )
    assert outage.pk is not None
    assert not Interruption.objects.filter(outage=outage).exists()


@pytest.mark.parametrize("method", ["sql", "orm"])
def test_interruptions_of_no_one_insert_nothing(network, method):
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S2"],
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
    )
    before = Interruption.objects.count()
    common.insert_interruptions(
        outage=outage,
        service_points=ServicePoint.objects.filter(pk__in=[]),
        started_at=timezone.now(),
        method=method,
    )
    assert Interruption.objects.count() == before
