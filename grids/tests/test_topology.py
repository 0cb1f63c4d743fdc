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
