"""Supply-tree computations on a network of two-terminal devices. Pure Python, no ORM.

A network is a list of ``Link(device, node_a, node_b, is_open)``. Power enters at *source*
nodes (substation busbars) and flows through closed devices. ``supply_tree`` gives, for every
energised device, the device that feeds it, the feeder head (``source``) that supplies it and
a pre-order interval ``[pre, post]`` such that the devices downstream of ``d`` are exactly
those with the same source and ``d.pre <= pre <= d.post``.

When closed devices form a loop (a tie closed in parallel), each node is entered once, from
its nearest source; the device that closes the loop is energised and feeds nothing. Then the
interval no longer answers "what loses supply if ``d`` opens" for a device on the loop: the
other path keeps its branch supplied. ``TreeEntry.on_loop`` marks those devices (every
energised device on a cycle of closed devices, the sources counted as one node since the
grid behind them joins them); their answer comes from ``downstream``. For every other device
the interval stays exact, meshed sections below it included: such a device is a bridge of
the energised network, so opening it cuts off exactly its subtree.
"""

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Link:
    device: int
    node_a: int
    node_b: int
    is_open: bool


@dataclass(frozen=True, slots=True)
class TreeEntry:
    fed_from: int | None
    source: int
    pre: int
    post: int
    # The node on the side away from the supply.
    out_node: int
    # On a loop of closed devices: the interval does not say what opening it cuts off.
    on_loop: bool = False


def _adjacency(links: Iterable[Link]) -> tuple[dict[int, list[Link]], dict[int, Link]]:
    by_node: dict[int, list[Link]] = defaultdict(list)
    by_device: dict[int, Link] = {}
    for link in links:
        by_device[link.device] = link
        by_node[link.node_a].append(link)
        by_node[link.node_b].append(link)
    for lst in by_node.values():
        lst.sort(key=lambda lk: lk.device)
    return by_node, by_device


def supply_tree(links: Iterable[Link], source_nodes: Iterable[int]) -> dict[int, TreeEntry]:
    """Compute the current supply tree. Devices not in the answer are de-energised.

    A breadth-first search from all sources at once decides who feeds whom (so a closed tie
    between two feeders leaves each section on its nearer source); a depth-first walk of the
    resulting tree then numbers it.
    """
    links = list(links)
    by_node, _ = _adjacency(links)
    sources = sorted(set(source_nodes))
    live_nodes: set[int] = set(sources)
    seen: set[int] = set()
    parent: dict[int, int | None] = {}
    out_of: dict[int, int] = {}
    children: dict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    queue: deque[tuple[Link, int]] = deque()
    for src in sources:
        for root in by_node.get(src, ()):
            if not root.is_open and root.device not in seen:
                seen.add(root.device)
                parent[root.device] = None
                roots.append(root.device)
                queue.append((root, src))
    while queue:
        link, in_node = queue.popleft()
        out_node = link.node_b if in_node == link.node_a else link.node_a
        out_of[link.device] = out_node
        if out_node in live_nodes:
            continue  # closes a loop, or both ends are live: feeds nothing
        live_nodes.add(out_node)
        for child in by_node.get(out_node, ()):
            if child.is_open or child.device in seen:
                continue
            seen.add(child.device)
            parent[child.device] = link.device
            children[link.device].append(child.device)
            queue.append((child, out_node))

    on_loop = closed_loop_devices(links, sources)
    result: dict[int, TreeEntry] = {}
    counter = 0
    for root_id in roots:
        pre_of: dict[int, int] = {}
        stack: list[tuple[int, bool]] = [(root_id, False)]
        while stack:
            device, leaving = stack.pop()
            if leaving:
                result[device] = TreeEntry(
                    parent[device],
                    root_id,
                    pre_of[device],
                    counter - 1,
                    out_of[device],
                    device in on_loop,
                )
                continue
            pre_of[device] = counter
            counter += 1
            stack.append((device, True))
            stack.extend((c, False) for c in reversed(children.get(device, ())))
    return result


def closed_loop_devices(links: Iterable[Link], source_nodes: Iterable[int]) -> set[int]:
    """Energised closed devices that lie on a loop of closed devices (meshed sections).

    Opening such a device alone cuts nobody off: another path still supplies both its ends.
    The sources are one node here (the grid behind the busbars joins them), so a tie closed
    between two feeders puts both feeders' paths to it on the loop. These are the edges of
    the energised network that are not bridges (an iterative Tarjan search keyed on devices,
    so two devices in parallel between the same nodes are both on a loop).
    """
    links = list(links)
    sources = set(source_nodes)
    live = energized_devices(links, sources)
    if not live:
        return set()
    hub = min(min(min(lk.node_a, lk.node_b) for lk in links), min(sources)) - 1

    def node(n: int) -> int:
        return hub if n in sources else n

    adjacency: dict[int, list[tuple[int, int]]] = defaultdict(list)
    looped: set[int] = set()
    for lk in links:
        if lk.device not in live:
            continue
        a, b = node(lk.node_a), node(lk.node_b)
        if a == b:  # between two busbars: a loop through the grid on its own
            looped.add(lk.device)
            continue
        adjacency[a].append((b, lk.device))
        adjacency[b].append((a, lk.device))
    bridges: set[int] = set()
    disc: dict[int, int] = {hub: 0}
    low: dict[int, int] = {hub: 0}
    stack: list[tuple[int, int | None, Iterator[tuple[int, int]]]] = [
        (hub, None, iter(adjacency.get(hub, ())))
    ]
    while stack:
        here, via, edges = stack[-1]
        for there, device in edges:
            if device == via:
                continue
            if there in disc:
                low[here] = min(low[here], disc[there])
                continue
            disc[there] = low[there] = len(disc)
            stack.append((there, device, iter(adjacency.get(there, ()))))
            break
        else:
            stack.pop()
            if stack and via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[here])
                if low[here] > disc[parent]:
                    bridges.add(via)
    on_tree = {d for edges in adjacency.values() for _, d in edges}
    return looped | (on_tree - bridges)


def energized_devices(links: Iterable[Link], source_nodes: Iterable[int]) -> set[int]:
    """The set of energised devices (a breadth-first search, independent of ``supply_tree``)."""
    by_node, _ = _adjacency(links)
    live: set[int] = set()
    frontier = list(set(source_nodes))
    seen_nodes = set(frontier)
    while frontier:
        nxt: list[int] = []
        for node in frontier:
            for link in by_node.get(node, ()):
                if link.is_open:
                    continue
                live.add(link.device)
                for other in (link.node_a, link.node_b):
                    if other not in seen_nodes:
                        seen_nodes.add(other)
                        nxt.append(other)
        frontier = nxt
    return live


def downstream(
    links: Iterable[Link],
    source_nodes: Iterable[int],
    device: int,
    states: Mapping[int, bool] | None = None,
) -> set[int]:
    """Devices that lose supply when ``device`` opens, with the device itself.

    For a device that is open now, the answer is what it would supply if it were closed
    (the customers an open breaker has cut off). ``states`` overrides ``is_open`` per device.
    """
    base = [
        Link(lk.device, lk.node_a, lk.node_b, (states or {}).get(lk.device, lk.is_open))
        for lk in links
    ]
    sources = list(source_nodes)
    closed = [
        Link(lk.device, lk.node_a, lk.node_b, False if lk.device == device else lk.is_open)
        for lk in base
    ]
    opened = [
        Link(lk.device, lk.node_a, lk.node_b, True if lk.device == device else lk.is_open)
        for lk in base
    ]
    with_dev = energized_devices(closed, sources)
    if device not in with_dev:
        return set()
    return (with_dev - energized_devices(opened, sources)) | {device}


def upstream_path(tree: Mapping[int, TreeEntry], device: int) -> list[int]:
    """The chain of devices from ``device`` up to its feeder head (inclusive), bottom first."""
    path: list[int] = []
    current: int | None = device
    while current is not None and current in tree:
        path.append(current)
        current = tree[current].fed_from
    return path
