"""The pure supply-tree module on small hand-made networks."""

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
