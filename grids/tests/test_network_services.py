"""The materialised supply tree on PostgreSQL, after switching."""

import pytest

from dispatch_center.core.exceptions import DomainError
from grids import selectors, services
from grids.models import Device
from grids.tests.factories import DeviceFactory, FeederFactory, NodeFactory, ServicePointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_feeders():
    """Feeder A: breaker BA -> switch S1 -> transformer TA1; BA -> transformer TA2.
    Feeder B: breaker BB -> transformer TB1. Tie T (normally open) joins S1's far side to BB's."""
    fa, fb = FeederFactory(), FeederFactory()
    src_a, src_b = NodeFactory(is_source=True), NodeFactory(is_source=True)
    a1, a2, b1 = NodeFactory(), NodeFactory(), NodeFactory()
    d = {}
    d["BA"] = DeviceFactory(code="BA", kind=Device.Kind.BREAKER, feeder=fa, node_a=src_a, node_b=a1)
    d["S1"] = DeviceFactory(code="S1", feeder=fa, node_a=a1, node_b=a2)
    d["TA1"] = DeviceFactory(
        code="TA1", kind=Device.Kind.TRANSFORMER, feeder=fa, node_a=a2, node_b=NodeFactory()
    )
    d["TA2"] = DeviceFactory(
        code="TA2", kind=Device.Kind.TRANSFORMER, feeder=fa, node_a=a1, node_b=NodeFactory()
    )
    d["BB"] = DeviceFactory(code="BB", kind=Device.Kind.BREAKER, feeder=fb, node_a=src_b, node_b=b1)
    d["TB1"] = DeviceFactory(
        code="TB1", kind=Device.Kind.TRANSFORMER, feeder=fb, node_a=b1, node_b=NodeFactory()
    )
    d["T"] = DeviceFactory(
        code="T", feeder=fb, node_a=b1, node_b=a2, normally_open=True, is_open=True
    )
    sps = {
        code: [ServicePointFactory(transformer=d[code]) for _ in range(3)]
        for code in ("TA1", "TA2", "TB1")
    }
    services.topology_rebuild(feeder_ids=[fa.pk])
    for dev in d.values():
        dev.refresh_from_db()
    return d, sps


def _codes(qs):
    return sorted(qs.values_list("code", flat=True))


def test_downstream_of_feeder_head(two_feeders):
    d, sps = two_feeders
    assert _codes(selectors.device_downstream_transformers(device=d["BA"])) == ["TA1", "TA2"]
    got = set(
        selectors.device_downstream_service_points(device=d["BA"]).values_list("pk", flat=True)
    )
    assert got == {sp.pk for sp in sps["TA1"] + sps["TA2"]}


def test_switching_moves_section_to_other_feeder(two_feeders):
    d, sps = two_feeders
    # When S1 opens and the tie closes
    services.device_set_open(device=d["S1"], is_open=True)
    tie = services.device_set_open(device=d["T"], is_open=False)
    ba, bb = Device.objects.get(code="BA"), Device.objects.get(code="BB")
    # Then TA1 is supplied by feeder B through the tie
    assert _codes(selectors.device_downstream_transformers(device=ba)) == ["TA2"]
    assert _codes(selectors.device_downstream_transformers(device=bb)) == ["TA1", "TB1"]
    assert _codes(selectors.device_downstream_transformers(device=tie)) == ["TA1"]
    path = selectors.service_point_upstream_path(service_point=sps["TA1"][0])
    assert [dev.code for dev in path] == ["TA1", "T", "BB"]


def test_open_breaker_downstream_is_what_it_cut_off(two_feeders):
    d, _ = two_feeders
    ba = services.device_set_open(device=d["BA"], is_open=True)
    assert not Device.objects.get(code="TA1").energized
    assert _codes(selectors.device_downstream_transformers(device=ba)) == ["TA1", "TA2"]
    assert selectors.device_upstream_path(device=Device.objects.get(code="TA1")) == []


def test_transformer_cannot_be_switched(two_feeders):
    d, _ = two_feeders
    with pytest.raises(DomainError):
        services.device_set_open(device=d["TA1"], is_open=True)
