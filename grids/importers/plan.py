"""From a raw electrical network to the rows of our model. Pure Python, no ORM.

A format reader (``opendss``, ``simbench``) turns its files into a :class:`RawNetwork`: buses,
two-terminal elements (conductor, switch, transformer), loads on buses, and the buses of the
substation where the supply enters. :func:`plan_network` maps it onto the model of
``grids.models`` (see its docstring):

* Conductor is contracted: all buses a run of conductor joins become one node (union-find).
  The substation buses are contracted into one *source* node (``is_source``).
* Switches and transformers become devices between the nodes of their two ends. A transformer
  whose two ends land on the same node after contraction is in parallel with conductor and
  cannot be a device (``grids_device_distinct_nodes``); it is dropped and listed in ``notes``.
  A switch in that position is still switched and reported by SCADA, so its far end becomes a
  node of its own with nothing behind it (``<bus>#<switch id>``), also listed in ``notes``.
* Each load hangs below the transformer whose low-voltage node holds its bus. A load on a bus
  that no transformer feeds (IEEE 13/123 put loads straight on MV buses) gets a *synthetic*
  transformer ``<bus>#T`` from the bus's node to a new node ``<bus>#LV``, one per bus, so every
  service point has a transformer.
* Orientation: a 0-1 breadth-first search from the source node (closed devices cost 0, open
  ones 1) reaches every node by the fewest open switches and sets each device's ``node_a`` to
  the side it was first reached from, i.e. the normal upstream side. Transformers keep the
  high-voltage side as ``node_a``. A normally-open tie is oriented from the side reached first.
* Feeder: each device gets a feeder label, in this order of preference: its own hint (the
  source names its feeder); the hint of the conductor on its far side (a head breaker takes
  the feeder of the cable it feeds); the feeder of the device that feeds it; the group name of
  the conductor on its far side; its own id (a feeder head with nothing else to go by).
"""

import enum
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

KIND_BREAKER = "breaker"
KIND_RECLOSER = "recloser"
KIND_SECTIONALISER = "sectionaliser"
KIND_LOAD_BREAK_SWITCH = "load_break_switch"
KIND_FUSE = "fuse"
KIND_TRANSFORMER = "transformer"

SYNTHETIC_TRANSFORMER_SUFFIX = "#T"
SYNTHETIC_LV_NODE_SUFFIX = "#LV"
# A switch in parallel with conductor gets a far-end node of its own: ``<bus>#<switch id>``.
PARALLEL_END_NODE_SEPARATOR = "#"


class Role(enum.Enum):
    CONDUCTOR = "conductor"
    SWITCH = "switch"
    TRANSFORMER = "transformer"


@dataclass(frozen=True, slots=True)
class Bus:
    name: str
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True, slots=True)
class Element:
    """A two-terminal element. For a transformer ``bus_a`` is the high-voltage side."""

    id: str
    role: Role
    bus_a: str
    bus_b: str
    kind: str = ""
    is_open: bool = False
    rating_kva: float | None = None
    # The feeder the source file says this element belongs to (strong hint).
    feeder_hint: str | None = None
    # A looser grouping from the source (e.g. a SimBench subnet), used when nothing else names
    # the feeder of a head.
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Load:
    id: str
    bus: str
    kw: float | None = None


@dataclass
class RawNetwork:
    """A network as read from files, before contraction. ``buses`` keeps the file order."""

    buses: dict[str, Bus]
    elements: list[Element]
    loads: list[Load]
    # Contracted into the one source node; the first names it.
    source_buses: list[str]
    # True when x/y are WGS-84 longitude/latitude.
    geographic: bool = False
    substation_kv: float | None = None
    feeder_kv: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PlannedNode:
    key: str
    is_source: bool
    x: float | None
    y: float | None


@dataclass(frozen=True, slots=True)
class PlannedDevice:
    key: str
    kind: str
    feeder: str
    node_a: str
    node_b: str
    normally_open: bool
    is_open: bool
    rating_kva: float | None
    x: float | None
    y: float | None
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class PlannedFeeder:
    label: str
    head: str


@dataclass(frozen=True, slots=True)
class PlannedServicePoint:
    load_id: str
    transformer: str
    x: float | None
    y: float | None


@dataclass
class NetworkPlan:
    """What the import will write: nodes, devices in supply order, feeders, service points."""

    source: str
    nodes: list[PlannedNode]
    devices: list[PlannedDevice]
    feeders: list[PlannedFeeder]
    service_points: list[PlannedServicePoint]
    geographic: bool
    substation_kv: float | None
    feeder_kv: float | None
    notes: list[str]

    def points(self) -> list[tuple[float, float]]:
        """Every source coordinate the plan uses (for fitting the placement)."""
        pts: list[tuple[float, float]] = []
        items: list[PlannedNode | PlannedDevice | PlannedServicePoint] = [
            *self.nodes,
            *self.devices,
            *self.service_points,
        ]
        for item in items:
            if item.x is not None and item.y is not None:
                pts.append((item.x, item.y))
        return pts


class PlanError(ValueError):
    """The raw network cannot be mapped (e.g. no source bus, two devices with one id)."""


@dataclass(slots=True)
class _Dev:
    key: str
    kind: str
    a: str  # node of bus_a
    b: str  # node of bus_b
    bus_a: str
    bus_b: str
    is_open: bool
    rating_kva: float | None
    hint: str | None
    synthetic: bool = False


class _UnionFind:
    """Union-find over bus names; the root of a set is its bus earliest in file order."""

    def __init__(self, names: list[str]) -> None:
        self.parent = {n: n for n in names}
        self.rank = {n: i for i, n in enumerate(names)}

    def find(self, x: str) -> str:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self.rank[rb] < self.rank[ra]:
            ra, rb = rb, ra
        self.parent[rb] = ra


def plan_network(raw: RawNetwork) -> NetworkPlan:
    """Contract, orient and label ``raw`` (see the module docstring for the rules)."""
    if not raw.source_buses:
        raise PlanError("the network has no source bus")
    notes = list(raw.notes)
    uf, conductors = _contract(raw)
    source_bus = raw.source_buses[0]
    source_root = uf.find(source_bus)
    hint_of, group_of = _conductor_labels(conductors, uf)

    keys: set[str] = set()
    devs, own_end_nodes = _devices(raw, uf, keys, notes)
    sp_pairs, synthetic_nodes = _attach_loads(raw, uf, devs, keys, notes)

    order, labels, flipped = _orient_and_label(devs, source_root, hint_of, group_of)
    if len(order) < len(devs):
        notes.append(f"{len(devs) - len(order)} device(s) are not connected to the source")
        _label_unreached(devs, order, labels, hint_of, group_of)

    coords = _Coordinates(raw, uf, source_root)
    for extra_node, bus in (*synthetic_nodes.items(), *own_end_nodes.items()):
        coords.place_at_bus(extra_node, bus)

    def node_key(node: str) -> str:
        return source_bus if node == source_root else node

    planned_devices, used_nodes = _planned_devices(devs, order, labels, flipped, coords, node_key)
    if source_root not in used_nodes:
        used_nodes.insert(0, source_root)
    return NetworkPlan(
        source=source_bus,
        nodes=[
            PlannedNode(key=node_key(n), is_source=n == source_root, x=xy[0], y=xy[1])
            for n in used_nodes
            for xy in [coords.node_xy.get(n, (None, None))]
        ],
        devices=planned_devices,
        feeders=_planned_feeders(planned_devices),
        service_points=_planned_service_points(sp_pairs, planned_devices, coords, source_root),
        geographic=raw.geographic,
        substation_kv=raw.substation_kv,
        feeder_kv=raw.feeder_kv,
        notes=notes,
    )


def _contract(raw: RawNetwork) -> tuple[_UnionFind, list[Element]]:
    """Union the substation buses and every run of conductor; the conductor elements."""
    uf = _UnionFind(list(raw.buses))
    source_bus = raw.source_buses[0]
    for other in raw.source_buses[1:]:
        uf.union(source_bus, other)
    conductors = [el for el in raw.elements if el.role is Role.CONDUCTOR]
    for el in conductors:
        uf.union(el.bus_a, el.bus_b)
    return uf, conductors


def _conductor_labels(
    conductors: list[Element], uf: _UnionFind
) -> tuple[dict[str, str], dict[str, str]]:
    """The most common feeder hint and group of the conductor in each contracted node."""
    hints: dict[str, Counter[str]] = defaultdict(Counter)
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for el in conductors:
        root = uf.find(el.bus_a)
        if el.feeder_hint:
            hints[root][el.feeder_hint] += 1
        if el.group:
            groups[root][el.group] += 1
    hint_of = {root: c.most_common(1)[0][0] for root, c in hints.items()}
    group_of = {root: c.most_common(1)[0][0] for root, c in groups.items()}
    return hint_of, group_of


def _devices(
    raw: RawNetwork, uf: _UnionFind, keys: set[str], notes: list[str]
) -> tuple[list[_Dev], dict[str, str]]:
    """Switches and transformers between the nodes of their ends, and the nodes of their own
    that switches in parallel with conductor get (``{node key: bus}``).

    A switch whose two ends land on one node is still a device an operator or SCADA switches
    (IEEE 8500's open tie ``wg127_48332_sw``: single-phase lines already join its ends), so
    its far end becomes a node of its own, ``<bus>#<switch id>``, with nothing behind it:
    switching it changes who is supplied by nothing, which is what the tables say. A
    transformer in parallel with conductor has no such role and is dropped.
    """
    devs: list[_Dev] = []
    dropped: list[str] = []
    parallel: list[str] = []
    own_end_nodes: dict[str, str] = {}
    for el in raw.elements:
        if el.role is Role.CONDUCTOR:
            continue
        if el.id in keys:
            raise PlanError(f"two devices are called '{el.id}'")
        keys.add(el.id)
        a, b = uf.find(el.bus_a), uf.find(el.bus_b)
        if a == b and el.role is Role.SWITCH:
            b = f"{el.bus_b}{PARALLEL_END_NODE_SEPARATOR}{el.id}"
            if b in uf.parent:
                raise PlanError(f"bus '{b}' clashes with the node of switch '{el.id}'")
            own_end_nodes[b] = el.bus_b
            parallel.append(el.id)
        elif a == b:
            dropped.append(el.id)
            continue
        kind = KIND_TRANSFORMER if el.role is Role.TRANSFORMER else el.kind
        devs.append(
            _Dev(el.id, kind, a, b, el.bus_a, el.bus_b, el.is_open, el.rating_kva, el.feeder_hint)
        )
    if parallel:
        notes.append(
            f"{len(parallel)} switch(es) in parallel with conductor imported with a node of "
            f"their own at the far end (switching them changes no supply): {_shown(parallel)}"
        )
    if dropped:
        notes.append(
            f"{len(dropped)} transformer element(s) in parallel with conductor cannot "
            f"change who is supplied and were not modelled: {_shown(dropped)}"
        )
    return devs, own_end_nodes


def _shown(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")


def _attach_loads(
    raw: RawNetwork, uf: _UnionFind, devs: list[_Dev], keys: set[str], notes: list[str]
) -> tuple[list[tuple[Load, str]], dict[str, str]]:
    """Each load under the transformer whose LV node holds its bus, else under a synthetic
    transformer (one per bus, appended to ``devs``): ``(load, transformer key)`` pairs and the
    synthetic LV nodes (``{node key: bus}``)."""
    lv_transformer: dict[str, str] = {}
    for dev in devs:
        if dev.kind == KIND_TRANSFORMER:
            lv_transformer.setdefault(dev.b, dev.key)
    synthetic_nodes: dict[str, str] = {}
    sp_pairs: list[tuple[Load, str]] = []
    for load in raw.loads:
        node = uf.find(load.bus)
        transformer = lv_transformer.get(node)
        if transformer is None:
            transformer = load.bus + SYNTHETIC_TRANSFORMER_SUFFIX
            lv_node = load.bus + SYNTHETIC_LV_NODE_SUFFIX
            if lv_node not in synthetic_nodes:
                if lv_node in uf.parent or transformer in keys:
                    raise PlanError(f"bus '{load.bus}' clashes with a synthetic name")
                keys.add(transformer)
                synthetic_nodes[lv_node] = load.bus
                devs.append(
                    _Dev(
                        transformer,
                        KIND_TRANSFORMER,
                        node,
                        lv_node,
                        load.bus,
                        load.bus,
                        False,
                        None,
                        None,
                        synthetic=True,
                    )
                )
        sp_pairs.append((load, transformer))
    if synthetic_nodes:
        notes.append(
            f"{len(synthetic_nodes)} synthetic transformer(s) for loads on buses no "
            "transformer feeds"
        )
    return sp_pairs, synthetic_nodes


def _label_unreached(
    devs: list[_Dev],
    order: list[int],
    labels: list[str | None],
    hint_of: dict[str, str],
    group_of: dict[str, str],
) -> None:
    """Label the devices the search from the source never reached and append them to
    ``order`` (in place)."""
    for i, dev in enumerate(devs):
        if labels[i] is None:
            labels[i] = (
                dev.hint
                or hint_of.get(dev.b)
                or group_of.get(dev.b)
                or hint_of.get(dev.a)
                or group_of.get(dev.a)
                or "isolated"
            )
            order.append(i)


class _Coordinates:
    """Where nodes and buses are: a node sits at its first bus (file order) with coordinates;
    the source node at the first source bus that has them."""

    def __init__(self, raw: RawNetwork, uf: _UnionFind, source_root: str) -> None:
        self.raw = raw
        self.uf = uf
        self.node_xy: dict[str, tuple[float, float]] = {}
        for bus in raw.buses.values():
            if bus.x is not None and bus.y is not None:
                self.node_xy.setdefault(uf.find(bus.name), (bus.x, bus.y))
        for name in raw.source_buses:
            bus = raw.buses[name]
            if bus.x is not None and bus.y is not None:
                self.node_xy[source_root] = (bus.x, bus.y)
                break

    def bus(self, name: str) -> tuple[float, float] | None:
        """The bus's own coordinates, else its node's."""
        bus = self.raw.buses.get(name)
        if bus is not None and bus.x is not None and bus.y is not None:
            return (bus.x, bus.y)
        return self.node_xy.get(self.uf.find(name)) if name in self.uf.parent else None

    def place_at_bus(self, node: str, bus: str) -> None:
        """Put a node that is no contracted bus set (synthetic, own end) at ``bus``."""
        xy = self.bus(bus)
        if xy is not None:
            self.node_xy[node] = xy


def _planned_devices(
    devs: list[_Dev],
    order: list[int],
    labels: list[str | None],
    flipped: list[bool],
    coords: _Coordinates,
    node_key: Callable[[str], str],
) -> tuple[list[PlannedDevice], list[str]]:
    """The devices in supply order, oriented, at their upstream bus; the nodes they use in
    the order first met."""
    used_nodes: list[str] = []
    seen_nodes: set[str] = set()
    planned: list[PlannedDevice] = []
    for i in order:
        dev = devs[i]
        a, b, up_bus = (dev.b, dev.a, dev.bus_b) if flipped[i] else (dev.a, dev.b, dev.bus_a)
        for node in (a, b):
            if node not in seen_nodes:
                seen_nodes.add(node)
                used_nodes.append(node)
        xy = coords.bus(up_bus) or coords.node_xy.get(a)
        label = labels[i]
        assert label is not None
        planned.append(
            PlannedDevice(
                key=dev.key,
                kind=dev.kind,
                feeder=label,
                node_a=node_key(a),
                node_b=node_key(b),
                normally_open=dev.is_open,
                is_open=dev.is_open,
                rating_kva=dev.rating_kva,
                x=xy[0] if xy else None,
                y=xy[1] if xy else None,
                synthetic=dev.synthetic,
            )
        )
    return planned, used_nodes


def _planned_feeders(devices: list[PlannedDevice]) -> list[PlannedFeeder]:
    """One feeder per label, headed by its first device in supply order."""
    feeders: list[PlannedFeeder] = []
    seen_labels: set[str] = set()
    for d in devices:
        if d.feeder not in seen_labels:
            seen_labels.add(d.feeder)
            feeders.append(PlannedFeeder(label=d.feeder, head=d.key))
    return feeders


def _planned_service_points(
    sp_pairs: list[tuple[Load, str]],
    devices: list[PlannedDevice],
    coords: _Coordinates,
    source_root: str,
) -> list[PlannedServicePoint]:
    """A service point per load, at its bus, else at its transformer, else at the source."""
    device_xy = {
        d.key: (d.x, d.y) if d.x is not None and d.y is not None else None for d in devices
    }
    source_xy = coords.node_xy.get(source_root)
    service_points = []
    for load, transformer in sp_pairs:
        xy = coords.bus(load.bus) or device_xy.get(transformer) or source_xy
        service_points.append(
            PlannedServicePoint(
                load_id=load.id,
                transformer=transformer,
                x=xy[0] if xy else None,
                y=xy[1] if xy else None,
            )
        )
    return service_points


def _orient_and_label(
    devs: list[_Dev],
    source: str,
    hint_of: dict[str, str],
    group_of: dict[str, str],
) -> tuple[list[int], list[str | None], list[bool]]:
    """0-1 breadth-first search from the source: device order, feeder labels, flipped ends.

    A device is reached from the first of its nodes to be settled; that node becomes its
    upstream end. Closed devices cost nothing and open ones one, so a normally-open tie never
    decides which feeder a section belongs to while a closed path exists.
    """
    adjacency: dict[str, list[int]] = defaultdict(list)
    for i, dev in enumerate(devs):
        adjacency[dev.a].append(i)
        adjacency[dev.b].append(i)
    labels: list[str | None] = [None] * len(devs)
    flipped = [False] * len(devs)
    done_devices = [False] * len(devs)
    order: list[int] = []
    dist: dict[str, int] = {source: 0}
    supply_label: dict[str, str | None] = {source: None}
    settled: set[str] = set()
    queue: deque[str] = deque([source])
    while queue:
        node = queue.popleft()
        if node in settled:
            continue
        settled.add(node)
        for i in adjacency.get(node, ()):
            if done_devices[i]:
                continue
            done_devices[i] = True
            order.append(i)
            dev = devs[i]
            other = dev.b if node == dev.a else dev.a
            # Transformers always keep the high-voltage side upstream.
            flipped[i] = dev.kind != KIND_TRANSFORMER and node == dev.b
            label = (
                dev.hint
                or hint_of.get(other)
                or supply_label.get(node)
                or group_of.get(other)
                or dev.key
            )
            labels[i] = label
            cost = dist[node] + (1 if dev.is_open else 0)
            if cost < dist.get(other, cost + 1):
                dist[other] = cost
                supply_label[other] = label
                if dev.is_open:
                    queue.append(other)
                else:
                    queue.appendleft(other)
    return order, labels, flipped
