"""A switch in parallel with conductor is still a device: SCADA reports it, operators switch it.

IEEE 8500's open tie ``wg127_48332_sw`` joins two single-phase buses that single-phase lines
already connect, so after contracting conductor both its ends are one node.
"""

import io

import pytest
from django.core.management import call_command

from grids import selectors, services
from grids.importers import RawNetwork, plan_network, read_opendss_csv
from grids.importers.plan import KIND_BREAKER, KIND_LOAD_BREAK_SWITCH, Bus, Element, Load, Role
from grids.models import Device, ServicePoint

TIE = "wg127_48332_sw"


def _raw() -> RawNetwork:
    # s -breaker- a; a, b and c joined by conductor; sw between b and c (in parallel);
    # a transformer t between b and c too (in parallel, nothing to switch); x below a.
    buses = {n: Bus(n, float(i), 0.0) for i, n in enumerate(["s", "a", "b", "c", "x"])}
    return RawNetwork(
        buses=buses,
        elements=[
            Element("head", Role.SWITCH, "s", "a", KIND_BREAKER),
            Element("ab", Role.CONDUCTOR, "a", "b"),
            Element("bc", Role.CONDUCTOR, "b", "c"),
            Element("sw", Role.SWITCH, "b", "c", KIND_LOAD_BREAK_SWITCH, is_open=True),
            Element("t", Role.TRANSFORMER, "b", "c"),
            Element("tx", Role.TRANSFORMER, "a", "x"),
        ],
        loads=[Load("l1", "x")],
        source_buses=["s"],
    )


def test_switch_in_parallel_with_conductor_gets_a_far_end_node_of_its_own():
    plan = plan_network(_raw())

    devices = {d.key: d for d in plan.devices}
    sw = devices["sw"]
    assert sw.kind == KIND_LOAD_BREAK_SWITCH
    assert (sw.normally_open, sw.is_open) == (True, True)
    assert sw.node_a == "a"  # the contracted a-b-c node
    assert sw.node_b == "c#sw"
    assert (sw.x, sw.y) == (2.0, 0.0)  # at its upstream bus, b
    end = next(n for n in plan.nodes if n.key == "c#sw")
    assert (end.is_source, end.x, end.y) == (False, 3.0, 0.0)
    # Nothing hangs behind the tie's own node; the transformer in parallel is still dropped.
    assert not [d for d in plan.devices if d.node_a == "c#sw"]
    assert "t" not in devices
    assert any("node of their own" in note and note.endswith(": sw") for note in plan.notes)
    assert any("not modelled" in note and note.endswith(": t") for note in plan.notes)


@pytest.mark.data
def test_ieee8500_open_tie_is_planned_as_a_normally_open_switch(shared_data):
    raw = read_opendss_csv(shared_data / "network" / "ieee8500" / "derived_csv")

    (tie,) = [d for d in plan_network(raw).devices if d.key == TIE]

    assert tie.kind == KIND_LOAD_BREAK_SWITCH
    assert tie.normally_open
    assert tie.is_open
    assert tie.node_a != tie.node_b


@pytest.mark.data
@pytest.mark.django_db
def test_ieee8500_open_tie_is_imported_and_can_be_switched(shared_data):
    folder = shared_data / "network" / "ieee8500" / "derived_csv"
    call_command(
        "import_network", "opendss-csv", str(folder), "--prefix", "t85", stdout=io.StringIO()
    )
    tie = Device.objects.get(code=f"t85:{TIE}")
    assert tie.kind == Device.Kind.LOAD_BREAK_SWITCH
    assert tie.normally_open
    assert tie.is_open
    energised = ServicePoint.objects.filter(transformer__energized=True).count()

    # When the operator (or SCADA) closes it
    services.device_set_open(device=tie, is_open=False)

    # Then it is closed and energised, and no customer's supply changed
    tie.refresh_from_db()
    assert not tie.is_open
    assert tie.energized
    assert not selectors.device_downstream_service_points(device=tie).exists()
    assert ServicePoint.objects.filter(transformer__energized=True).count() == energised
