"""Device trees of the reference feeders, read straight from the raw CSVs in ../shared/data.

Pure Python, no database, no project imports: the benchmarks build the roll-up engine's
topology from these plain dicts. See ../shared/data/README.md for the formats. Conventions:

* Buses are joined by conductor (lines that are neither switches nor lateral heads, regulators,
  substation transformers, LV networks); only *devices* appear in the tree.
* Devices: ``switch`` (closed switches), ``lateral`` (OpenDSS: a single-phase line leaving a
  multi-phase bus, where a fuse sits; SimBench: an MV line section), ``transformer`` (service
  or MV/LV transformers). Each device's parent is the nearest device upstream (None at the top).
* A load is one customer. A load that no transformer feeds (IEEE 13/123 have none, SimBench
  has a few MV loads) gets a virtual transformer ``T:<bus>`` holding all the loads of its bus.
* Flow direction comes from a breadth-first search from the source bus; an element that would
  close a loop is ignored, and open switches (disabled / ``cond=0``) conduct nothing.
"""

from __future__ import annotations

import csv
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

SWITCH = "switch"
LATERAL = "lateral"
TRANSFORMER = "transformer"
KINDS = (SWITCH, LATERAL, TRANSFORMER)


@dataclass
class Feeder:
    """A device tree: ``parent`` links, customers per transformer and each device's kind."""

    name: str
    parent: dict[str, str | None]
    customers: dict[str, int]
    kind: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def devices_of(self, kind: str) -> list[str]:
        return [d for d, k in self.kind.items() if k == kind]


@dataclass
class _Edge:
    name: str
    a: str
    b: str
    # "conductor", "switch", "lateral?" (decided on the direction of flow) or "transformer"
    role: str


def _bus(name: str) -> str:
    """An OpenDSS bus reference without its phase suffix (``"54.1.2"`` → ``"54"``)."""
    return name.split(".", 1)[0].strip().lower()


def _build(
    name: str,
    edges: list[_Edge],
    root: str,
    loads: list[str],
    bus_phases: dict[str, int] | None = None,
) -> Feeder:
    by_bus: dict[str, list[_Edge]] = defaultdict(list)
    for edge in edges:
        by_bus[edge.a].append(edge)
        by_bus[edge.b].append(edge)
    parent: dict[str, str | None] = {}
    kind: dict[str, str] = {}
    device_at: dict[str, str | None] = {root: None}
    queue = deque([root])
    seen_edges: set[str] = set()
    while queue:
        u = queue.popleft()
        for edge in by_bus[u]:
            if edge.name in seen_edges:
                continue
            seen_edges.add(edge.name)
            v = edge.b if edge.a == u else edge.a
            if v in device_at:
                continue  # closes a loop: carries nothing in the radial picture
            role = edge.role
            if role == "lateral?":
                role = LATERAL if bus_phases and bus_phases.get(u, 1) >= 2 else "conductor"
            if role == "conductor":
                device_at[v] = device_at[u]
            else:
                parent[edge.name] = device_at[u]
                kind[edge.name] = role
                device_at[v] = edge.name
            queue.append(v)

    customers: dict[str, int] = defaultdict(int)
    unreachable = 0
    for bus in loads:
        if bus not in device_at:
            unreachable += 1
            continue
        dev = device_at[bus]
        if dev is None or kind[dev] != TRANSFORMER:
            virtual = f"T:{bus}"
            if virtual not in parent:
                parent[virtual] = dev
                kind[virtual] = TRANSFORMER
            dev = virtual
        customers[dev] += 1
    notes = []
    if unreachable:
        notes.append(f"{unreachable} loads not reachable from {root} (behind open switches)")
    return Feeder(name, parent, dict(customers), kind, notes)


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def load_opendss(folder: Path, name: str, root: str) -> Feeder:
    """An IEEE feeder from its ``derived_csv`` folder, fed at bus ``root``."""
    csv_dir = folder / "derived_csv"
    bus_phases = {_bus(r["bus"]): int(r["num_nodes"]) for r in _rows(csv_dir / "buses.csv")}
    edges: list[_Edge] = []
    lines = [r for r in _rows(csv_dir / "lines.csv") if r["enabled"] == "1"]  # disabled: open
    # Phases between two buses: three single-phase lines side by side (the 8500 capacitor
    # connections) are one three-phase path, not three laterals.
    pair_phases: dict[frozenset[str], int] = defaultdict(int)
    for r in lines:
        pair_phases[frozenset((_bus(r["bus1"]), _bus(r["bus2"])))] += int(r["phases"])
    for r in lines:
        a, b = _bus(r["bus1"]), _bus(r["bus2"])
        if a == b:
            continue
        if r["is_switch"] == "1":
            role = SWITCH
        elif pair_phases[frozenset((a, b))] == 1:
            role = "lateral?"
        else:
            role = "conductor"
        edges.append(_Edge(r["line"], a, b, role))
    for r in _rows(csv_dir / "transformers.csv"):
        if r["enabled"] != "1":
            continue
        buses = [_bus(x) for x in r["buses"].split()]
        # Regulators and substation banks have no xfmrcode: they are conductor here.
        role = TRANSFORMER if r["xfmrcode"].strip() else "conductor"
        others = [x for x in dict.fromkeys(buses[1:]) if x != buses[0]]
        for n, other in enumerate(others):
            label = r["transformer"] if n == 0 else f"{r['transformer']}#{n}"
            edges.append(_Edge(label, buses[0], other, role if n == 0 else "conductor"))
    loads = [_bus(r["bus"]) for r in _rows(csv_dir / "loads.csv") if r["enabled"] == "1"]
    return _build(name, edges, _bus(root), loads, bus_phases)


def load_simbench(folder: Path, name: str = "SimBench") -> Feeder:
    """The SimBench MV/LV grid: MV switches and line sections, LV contracted into transformers."""
    edges: list[_Edge] = []
    for r in _rows(folder / "Line.csv", ";"):
        role = LATERAL if r["voltLvl"] == "5" else "conductor"
        edges.append(_Edge(r["id"], r["nodeA"], r["nodeB"], role))
    for r in _rows(folder / "Switch.csv", ";"):
        if r["cond"] != "1":
            continue
        role = SWITCH if r["voltLvl"] == "5" else "conductor"
        edges.append(_Edge(r["id"], r["nodeA"], r["nodeB"], role))
    for r in _rows(folder / "Transformer.csv", ";"):
        # voltLvl 6 is MV/LV; the HV/MV banks are part of the supply, not candidates.
        role = TRANSFORMER if r["voltLvl"] == "6" else "conductor"
        edges.append(_Edge(r["id"], r["nodeHV"], r["nodeLV"], role))
    roots = [r["node"] for r in _rows(folder / "ExternalNet.csv", ";")]
    loads = [r["node"] for r in _rows(folder / "Load.csv", ";")]
    return _build(name, edges, roots[0], loads)


def load_feeders(shared_data: Path) -> list[Feeder]:
    """IEEE 123, IEEE 8500 and SimBench, as the roll-up benchmark uses them."""
    net = shared_data / "network"
    return [
        load_opendss(net / "ieee123", "IEEE 123", "150"),
        load_opendss(net / "ieee8500", "IEEE 8500", "hvmv_sub_hsb"),
        load_simbench(net / "simbench_1-MVLV-urban-all-0-sw"),
    ]
