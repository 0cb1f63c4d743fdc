"""The pure supply-tree module on small hand-made networks."""

import pytest

from grids import topology
from grids.topology import Link

# Source node 0. Breaker 1 (0-1), switch 2 (1-2), fuse 3 (2-3), transformer 4 (3-4),
# transformer 5 (1-5), tie 6 (2-7) normally open to a second feeder: breaker 7 (100-7),
# transformer 8 (7-8).
NETWORK = [
    Link(1, 0, 1, False),
    Link(2, 1, 2, False),
    Link(3, 2, 3, False),
    Link(4, 3, 4, False),
    Link(5, 1, 5, False),
    Link(6, 2, 7, True),
    Link(7, 100, 7, False),
    Link(8, 7, 8, False),
]
SOURCES = [0, 100]


def _below(tree, device):
    entry = tree[device]
    return {
        d for d, e in tree.items() if e.source == entry.source and entry.pre <= e.pre <= entry.post
    }


def test_supply_tree_intervals_give_downstream_sets():
    tree = topology.supply_tree(NETWORK, SOURCES)
    assert set(tree) == {1, 2, 3, 4, 5, 7, 8}
    assert _below(tree, 1) == {1, 2, 3, 4, 5}
    assert _below(tree, 2) == {2, 3, 4}
    assert _below(tree, 7) == {7, 8}
    assert tree[4].fed_from == 3
    assert topology.upstream_path(tree, 4) == [4, 3, 2, 1]


def test_opening_switch_and_closing_tie_moves_the_section_to_the_other_feeder():
    # Given switch 2 open and the tie 6 closed
    net = [
        Link(lk.device, lk.node_a, lk.node_b, {2: True, 6: False}.get(lk.device, lk.is_open))
        for lk in NETWORK
    ]
    # When the tree is rebuilt
    tree = topology.supply_tree(net, SOURCES)
    # Then the fuse and its transformer are fed from breaker 7 through the tie
    assert tree[3].source == 7
    assert _below(tree, 7) == {7, 8, 6, 3, 4}
    assert topology.upstream_path(tree, 4) == [4, 3, 6, 7]
    # and the opened switch is out of the supply tree
    assert _below(tree, 1) == {1, 5}
    assert 2 not in tree


def test_open_breaker_de_energises_its_feeder():
    net = [Link(1, 0, 1, True), *NETWORK[1:]]
    tree = topology.supply_tree(net, SOURCES)
    assert not {1, 2, 3, 4, 5} & set(tree)


def test_downstream_of_open_device_is_what_it_would_supply():
    net = [Link(1, 0, 1, True), *NETWORK[1:]]
    assert topology.downstream(net, SOURCES, 1) == {1, 2, 3, 4, 5}
    # Closing the tie would back-feed the dead feeder from the other one.
    assert topology.downstream(net, SOURCES, 6) == {6, 2, 3, 4, 5}
    # With the breaker closed the tie would supply nothing new.
    assert topology.downstream(NETWORK, SOURCES, 6) == {6}


def test_downstream_matches_interval_for_every_device():
    tree = topology.supply_tree(NETWORK, SOURCES)
    for device in tree:
        assert topology.downstream(NETWORK, SOURCES, device) == _below(tree, device)


def test_loop_closed_in_parallel_energises_each_node_once():
    net = [Link(lk.device, lk.node_a, lk.node_b, False) for lk in NETWORK]
    tree = topology.supply_tree(net, SOURCES)
    assert set(tree) == {1, 2, 3, 4, 5, 6, 7, 8}
    # Each section stays on its nearer source; the tie that closes the loop feeds nothing.
    assert tree[6].source == 7
    assert tree[6].pre == tree[6].post
    assert tree[3].source == 1


# --- loops closed: which devices the interval cannot answer -----------------------------------


def _tie_closed():
    return [Link(lk.device, lk.node_a, lk.node_b, False) for lk in NETWORK]


def _answer(links, sources, tree, device):
    """What the materialised tree answers: the interval, or the search for a loop device."""
    if tree[device].on_loop:
        return topology.downstream(links, sources, device)
    return _below(tree, device)


def test_a_radial_network_has_no_device_on_a_loop():
    tree = topology.supply_tree(NETWORK, SOURCES)
    assert not any(e.on_loop for e in tree.values())
    assert topology.closed_loop_devices(NETWORK, SOURCES) == set()


def test_closing_a_tie_between_feeders_puts_both_paths_to_it_on_the_loop():
    net = _tie_closed()
    tree = topology.supply_tree(net, SOURCES)
    # source 0 - 1 - 2 - tie 6 - 7 - source 100: a loop through the grid behind the sources
    assert {d for d, e in tree.items() if e.on_loop} == {1, 2, 6, 7}
    # Opening the head breaker 1 now cuts off only itself (the tie feeds the rest) ...
    assert topology.downstream(net, SOURCES, 1) == {1}
    # ... although its interval still holds its whole branch
    assert _below(tree, 1) == {1, 2, 3, 4, 5}
    # and for every device, the answer the tree gives is the search's
    for device in tree:
        assert _answer(net, SOURCES, tree, device) == topology.downstream(net, SOURCES, device)


def test_devices_in_parallel_between_the_same_nodes_are_both_on_a_loop():
    net = [*NETWORK, Link(9, 1, 2, False)]
    assert topology.closed_loop_devices(net, SOURCES) == {2, 9}
    tree = topology.supply_tree(net, SOURCES)
    # The fuse below the pair is a bridge: the interval answers it
    assert not tree[3].on_loop
    assert _answer(net, SOURCES, tree, 3) == {3, 4}


def test_a_loop_inside_a_branch_leaves_the_branch_head_radial():
    # A second path 1 -> 2 through node 9 (devices 9, 10): a loop below breaker 1 only
    net = [*NETWORK, Link(9, 1, 9, False), Link(10, 9, 2, False)]
    tree = topology.supply_tree(net, SOURCES)
    assert {d for d, e in tree.items() if e.on_loop} == {2, 9, 10}
    assert not tree[1].on_loop
    assert _answer(net, SOURCES, tree, 1) == {1, 2, 3, 4, 5, 9, 10}
    assert topology.downstream(net, SOURCES, 2) == {2}


def _random_network(rng, n_nodes, n_sources, extra):
    """A random tree on ``n_nodes`` nodes plus ``extra`` random links, some open."""
    links = []
    device = 1
    for node in range(n_sources, n_nodes):
        links.append(Link(device, int(rng.integers(0, node)), node, bool(rng.random() < 0.1)))
        device += 1
    for _ in range(extra):
        a, b = (int(x) for x in rng.choice(n_nodes, size=2, replace=False))
        links.append(Link(device, a, b, bool(rng.random() < 0.4)))
        device += 1
    return links, list(range(n_sources))


def test_the_tree_answers_like_the_search_on_random_meshed_networks():
    import numpy as np

    rng = np.random.default_rng(20261205)
    checked = looped = 0
    for _ in range(60):
        links, sources = _random_network(
            rng, int(rng.integers(5, 40)), int(rng.integers(1, 3)), int(rng.integers(0, 6))
        )
        tree = topology.supply_tree(links, sources)
        for device in tree:
            assert _answer(links, sources, tree, device) == topology.downstream(
                links, sources, device
            ), (links, device)
            checked += 1
            looped += tree[device].on_loop
    # The cases exercised both paths
    assert looped > 50
    assert checked - looped > 200


# --- the reference feeders with a loop closed (database, ../shared/data) ----------------------

SIMBENCH = "simbench_1-MVLV-urban-all-0-sw"


def _import_feeder(shared_data, kind: str, folder_name: str, prefix: str):
    """Import one reference feeder; returns its raw reference graph and the prefix."""
    from grids.tests import test_importers as ref

    if kind == "simbench":
        folder = shared_data / "network" / folder_name
        ref._import("simbench", folder, prefix)
        graph = ref.raw_simbench(folder)
    else:
        folder = shared_data / "network" / folder_name / "derived_csv"
        ref._import("opendss-csv", folder, prefix)
        source, ties = ref.IEEE[folder_name]
        graph = ref.raw_opendss(folder, source, ties)
    from grids.models import Device

    synthetic = Device.objects.filter(
        feeder__substation__code=prefix, code__endswith=ref.SYNTHETIC
    ).values_list("code", flat=True)
    graph.add_synthetic_transformers(list(synthetic), prefix)
    return graph


def _close(device, graph, prefix):
    from grids import services
    from grids.tests import test_importers as ref

    services.device_set_open(device=device, is_open=False)
    graph.open.discard(ref._element(device, prefix))


def _customers_below(device) -> int:
    from grids import selectors

    device.refresh_from_db()
    return selectors.device_downstream_service_points(device=device).count()


@pytest.mark.data
@pytest.mark.django_db
def test_ieee123_with_tie_sw7_closed_switch_sw2_cuts_off_nobody(shared_data):
    from grids.models import Device
    from grids.tests import test_importers as ref

    graph = _import_feeder(shared_data, "opendss", "ieee123", "i123")
    sw2 = Device.objects.get(code="i123:sw2")
    # Given the radial feeder: opening sw2 cuts off its branch, answered by the range query
    assert sw2.on_closed_loop is False
    radial_count = _customers_below(sw2)
    assert radial_count > 0
    # When the tie sw7 closes in parallel (make before break)
    _close(Device.objects.get(code="i123:sw7"), graph, "i123")
    # Then sw2 lies on the loop, and opening it cuts off no customer
    sw2.refresh_from_db()
    assert sw2.on_closed_loop is True
    assert _customers_below(sw2) == 0
    # and every sampled device answers as the independent search over the raw files does
    ref.assert_matches_reference(graph, "i123", "sw7 closed")
    # Radial sections are still answered by the range query
    assert Device.objects.filter(feeder__substation__code="i123", on_closed_loop=False).exists()


@pytest.mark.data
@pytest.mark.django_db
def test_simbench_with_a_ring_closed_its_head_breaker_cuts_off_nobody(shared_data):
    from grids.models import Device
    from grids.tests import test_importers as ref

    graph = _import_feeder(shared_data, "simbench", SIMBENCH, "sb")
    head = Device.objects.get(code="sb:MV3.101 Switch 12")
    assert head.on_closed_loop is False
    assert _customers_below(head) > 0
    # When the open tie of its ring closes (the one whose closing puts the head on a loop)
    ring_tie = None
    for tie in Device.objects.filter(feeder__substation__code="sb", is_open=True).order_by("code"):
        _close(tie, graph, "sb")
        head.refresh_from_db()
        if head.on_closed_loop:
            ring_tie = tie
            break
        tie.refresh_from_db()
        from grids import services

        services.device_set_open(device=tie, is_open=True)
        graph.open.add(ref._element(tie, "sb"))
    assert ring_tie is not None, "no tie closes the ring of the head breaker"
    # Then the head breaker cuts off nobody: the other feeder supplies the ring
    assert _customers_below(head) == 0
    ref.assert_matches_reference(graph, "sb", f"ring closed by {ring_tie.code}")


@pytest.mark.data
@pytest.mark.django_db
def test_ieee8500_with_a_loop_closed_matches_the_raw_search(shared_data):
    from grids.models import Device
    from grids.tests import test_importers as ref

    graph = _import_feeder(shared_data, "opendss", "ieee8500", "i8500")
    mine = Device.objects.filter(feeder__substation__code="i8500")
    # When an open switch whose two ends are both supplied closes (a loop)
    looped = None
    for tie in mine.filter(is_open=True).order_by("code"):
        _close(tie, graph, "i8500")
        if mine.filter(on_closed_loop=True).exists():
            looped = tie
            break
    assert looped is not None, "no open switch of IEEE 8500 closes a loop"
    # Then devices on the loop cut off nobody and the answers match the raw search
    on_loop = list(mine.filter(on_closed_loop=True, kind__in=Device.SWITCHING_KINDS))
    assert on_loop
    assert all(_customers_below(d) == 0 for d in on_loop)
    ref.assert_matches_reference(graph, "i8500", f"{looped.code} closed")
