"""The reference feeders as they are, for the roll-up benchmark. Pure Python, no project imports.

Unlike ``_feeders.py`` (a device tree with customers folded into transformers), this keeps the
structure a fault can hit: every customer on its own bus, under the devices the feeder has
(switches, fuses / laterals, transformers), and every line section counted under the device
that protects it. Element kinds follow ``outages.rollup.FaultKind`` values:

* ``switch``: closed switches, breakers, reclosers, plus a virtual head breaker ``HEAD``;
* ``lateral``: OpenDSS single-phase lines leaving a multi-phase bus (where a fuse sits);
  SimBench's low-voltage feeder breakers / fuses (``CB`` at voltage level 7);
* ``transformer``: service or MV/LV transformers (with an ``xfmrcode`` / voltage level 6);
* ``section``: a conductor line under a switch or lateral; its fault takes out what that
  device feeds (secondary conductor under a transformer belongs to the transformer);
* ``premise``: one customer (a load).

A customer hangs on an *anchor*: the transformer that feeds it when it feeds it alone on its
bus (IEEE 8500), otherwise a bus node ``B:<bus>`` below the device feeding the bus (a junction
the engine passes calls through but never predicts).
"""

from __future__ import annotations

import csv
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

SWITCH, LATERAL, TRANSFORMER, SECTION, PREMISE = (
    "switch",
    "lateral",
    "transformer",
    "section",
    "premise",
)
DEVICE_KINDS = (SWITCH, LATERAL, TRANSFORMER)
HEAD = "HEAD"


@dataclass
class Network:
    """Devices, anchors and customers of one feeder."""

    name: str
    parent: dict[str, str | None]  # devices and anchors → upstream device (None at HEAD)
    kind: dict[str, str]  # devices only
    anchor_of: list[str]  # customer number → anchor node
    sections: dict[str, int]  # device → line sections it protects
    notes: list[str] = field(default_factory=list)

    def devices_of(self, kind: str) -> list[str]:
        return [d for d, k in self.kind.items() if k == kind]

    def customers_at(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for anchor in self.anchor_of:
            counts[anchor] += 1
        return dict(counts)


@dataclass
class _Edge:
    name: str
    a: str
    b: str
    role: str  # SWITCH, LATERAL, TRANSFORMER, "conductor", "lateral?" or "supply"


def _bus(name: str) -> str:
    return name.split(".", 1)[0].strip().lower()


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def _build(
    name: str,
    edges: list[_Edge],
    root: str,
    loads: list[str],
    bus_phases: dict[str, int] | None = None,
) -> Network:
    by_bus: dict[str, list[_Edge]] = defaultdict(list)
    for edge in edges:
        by_bus[edge.a].append(edge)
        by_bus[edge.b].append(edge)
    parent: dict[str, str | None] = {HEAD: None}
    kind: dict[str, str] = {HEAD: SWITCH}
    sections: dict[str, int] = defaultdict(int)
    device_at: dict[str, str] = {root: HEAD}
    queue = deque([root])
    seen: set[str] = set()
    while queue:
        u = queue.popleft()
        for edge in by_bus[u]:
            if edge.name in seen:
                continue
            seen.add(edge.name)
            v = edge.b if edge.a == u else edge.a
            if v in device_at:
                continue  # closes a loop: carries nothing in the radial picture
            role = edge.role
            if role == "lateral?":
                role = LATERAL if bus_phases and bus_phases.get(u, 1) >= 2 else "conductor"
            up = device_at[u]
            if role in DEVICE_KINDS:
                parent[edge.name] = up
                kind[edge.name] = role
                device_at[v] = edge.name
            else:
                if role == "conductor" and kind[up] != TRANSFORMER:
                    sections[up] += 1
                device_at[v] = up
            queue.append(v)
    on_bus: dict[str, int] = defaultdict(int)
    for bus in loads:
        on_bus[bus] += 1
    anchor_of: list[str] = []
    unreachable = 0
    for bus in loads:
        if bus not in device_at:
            unreachable += 1
            continue
        dev = device_at[bus]
        if kind[dev] == TRANSFORMER and on_bus[bus] == 1 and _alone(dev, device_at, on_bus):
            anchor_of.append(dev)
            continue
        anchor = f"B:{bus}"
        parent.setdefault(anchor, dev)
        anchor_of.append(anchor)
    notes = [f"{unreachable} loads unreachable (behind open switches)"] if unreachable else []
    return Network(name, parent, kind, anchor_of, dict(sections), notes)


def _alone(device: str, device_at: dict[str, str], on_bus: dict[str, int]) -> bool:
    """Whether ``device`` feeds exactly one load (then the load hangs on it directly)."""
    return sum(n for bus, n in on_bus.items() if device_at.get(bus) == device) == 1


def load_opendss(folder: Path, name: str, root: str) -> Network:
    csv_dir = folder / "derived_csv"
    bus_phases = {_bus(r["bus"]): int(r["num_nodes"]) for r in _rows(csv_dir / "buses.csv")}
    lines = [r for r in _rows(csv_dir / "lines.csv") if r["enabled"] == "1"]
    pair_phases: dict[frozenset[str], int] = defaultdict(int)
    for r in lines:
        pair_phases[frozenset((_bus(r["bus1"]), _bus(r["bus2"])))] += int(r["phases"])
    edges: list[_Edge] = []
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
        role = TRANSFORMER if r["xfmrcode"].strip() else "supply"
        others = [x for x in dict.fromkeys(buses[1:]) if x != buses[0]]
        for n, other in enumerate(others):
            label = r["transformer"] if n == 0 else f"{r['transformer']}#{n}"
            edges.append(_Edge(label, buses[0], other, role if n == 0 else "supply"))
    loads = [_bus(r["bus"]) for r in _rows(csv_dir / "loads.csv") if r["enabled"] == "1"]
    return _build(name, edges, _bus(root), loads, bus_phases)


def load_simbench(folder: Path, name: str = "SimBench") -> Network:
    edges: list[_Edge] = []
    for r in _rows(folder / "Line.csv", ";"):
        edges.append(_Edge(r["id"], r["nodeA"], r["nodeB"], "conductor"))
    for r in _rows(folder / "Switch.csv", ";"):
        if r["cond"] != "1":
            continue
        if r["voltLvl"] == "7":
            # LV feeder breakers / fuses; the LS switches are bus connections.
            role = LATERAL if r["type"] == "CB" else "supply"
        elif r["voltLvl"] == "5":
            role = SWITCH
        else:
            role = "supply"
        edges.append(_Edge(r["id"], r["nodeA"], r["nodeB"], role))
    for r in _rows(folder / "Transformer.csv", ";"):
        role = TRANSFORMER if r["voltLvl"] == "6" else "supply"
        edges.append(_Edge(r["id"], r["nodeHV"], r["nodeLV"], role))
    roots = [r["node"] for r in _rows(folder / "ExternalNet.csv", ";")]
    loads = [r["node"] for r in _rows(folder / "Load.csv", ";")]
    return _build(name, edges, roots[0], loads)


def load_networks(shared_data: Path) -> list[Network]:
    net = shared_data / "network"
    return [
        load_opendss(net / "ieee123", "IEEE 123", "150"),
        load_opendss(net / "ieee8500", "IEEE 8500", "hvmv_sub_hsb"),
        load_simbench(net / "simbench_1-MVLV-urban-all-0-sw"),
    ]
