"""Reader for grids in the SimBench CSV format. Pure Python, no ORM.

Files (``;``-separated): ``Node.csv``, ``Coordinates.csv``, ``Line.csv``, ``Switch.csv``,
``Transformer.csv``, ``Load.csv``, ``ExternalNet.csv`` and, for ratings, the optional
``TransformerType.csv``. ``voltLvl``: 1-4 extra-high to high voltage and HV/MV, 5 MV, 6 MV/LV,
7 LV.

Modelling choices, all listed in the import's notes:

* **Source.** The external grid, the HV network, the HV/MV transformers and the substation's
  internal MV nodes (busbars and auxiliary nodes without a cable or a distribution transformer,
  reached through closed switches) are contracted into one source node. Switches inside it are
  not modelled: closed ones are conductor, open ones (the two bus couplers of
  ``1-MVLV-urban``) join a busbar to another busbar of the same source and can never change
  who is supplied. So that grid shows 13 normally-open switches, not SimBench's 15.
* **Feeder heads.** A switch from the source node to a cable is a feeder head and becomes a
  breaker.
* **MV switches** become devices: ``CB`` breaker, ``LBS`` load-break switch, ``DS``
  (disconnector; we have no such kind) sectionaliser, others load-break switch. ``cond == 0``
  means normally open and open now.
* **LV** (both ends at ``voltLvl`` 6-7) is contracted behind each MV/LV transformer, LV
  switches included; an open LV switch carries nothing and is left out.
* **Distribution transformers** (low side at LV) are transformer devices with the rating of
  their ``TransformerType``.
* **Feeders.** A device takes the feeder its ``subnet`` names (``MV3.101_Feeder7``), else the
  feeder of the cable it feeds, else that of the device feeding it (see ``plan``). A head with
  none of those (the reserve cable to the switching station, subnet ``MV3.101_BS_Line``) or a
  customer straight on the substation busbar starts a feeder of its own.
* **Loads** on MV nodes (``voltLvl`` 5) get a synthetic transformer, like IEEE 13/123.
"""

import re
from collections import defaultdict, deque
from pathlib import Path
from typing import NamedTuple

from .plan import (
    KIND_BREAKER,
    KIND_LOAD_BREAK_SWITCH,
    KIND_SECTIONALISER,
    Bus,
    Element,
    Load,
    RawNetwork,
    Role,
)
from .tables import NetworkFileError, Row, read_table

NODES = "Node.csv"
COORDINATES = "Coordinates.csv"
LINES = "Line.csv"
SWITCHES = "Switch.csv"
TRANSFORMERS = "Transformer.csv"
TRANSFORMER_TYPES = "TransformerType.csv"
LOADS = "Load.csv"
EXTERNAL = "ExternalNet.csv"
_SEP = ";"
_FEEDER_SUBNET = re.compile(r"Feeder\d+$")
_SWITCH_KINDS = {"CB": KIND_BREAKER, "LBS": KIND_LOAD_BREAK_SWITCH, "DS": KIND_SECTIONALISER}
MV = 5
LV_MIN = 6


class _Tables(NamedTuple):
    """The rows of every file, read (and their columns checked) before any row is parsed."""

    coords: list[Row]
    nodes: list[Row]
    lines: list[Row]
    switches: list[Row]
    transformers: list[Row]
    loads: list[Row]
    externals: list[Row]
    types: list[Row]


class _Nodes(NamedTuple):
    buses: dict[str, Bus]
    level: dict[str, int]
    vm: dict[str, float | None]


class _Line(NamedTuple):
    id: str
    a: str
    b: str
    subnet: str


class _Switch(NamedTuple):
    id: str
    a: str
    b: str
    type: str
    is_open: bool
    subnet: str


class _Transformer(NamedTuple):
    id: str
    hv: str
    lv: str
    type: str


def read_simbench(directory: Path) -> RawNetwork:
    """Read a SimBench grid from ``directory``; raises ``NetworkFileError`` naming file and line."""
    t = _read_tables(directory)
    nodes = _read_nodes(t.nodes, _read_coordinates(t.coords))
    for rows, file in (
        (t.lines, LINES),
        (t.switches, SWITCHES),
        (t.transformers, TRANSFORMERS),
        (t.loads, LOADS),
    ):
        _check_unique(rows, file)
    buses = nodes.buses
    lines = [
        _Line(
            r.text("id"),
            _node_of(r, "nodeA", buses),
            _node_of(r, "nodeB", buses),
            r.text("subnet", required=False),
        )
        for r in t.lines
    ]
    switches = _read_switches(t.switches, buses)
    ratings = _read_ratings(t.types)
    transformers = [
        _Transformer(
            r.text("id"), _node_of(r, "nodeHV", buses), _node_of(r, "nodeLV", buses), r.text("type")
        )
        for r in t.transformers
    ]
    loads = _read_loads(t.loads, buses)
    externals = [_node_of(r, "node", buses) for r in t.externals]
    if not externals:
        raise NetworkFileError(EXTERNAL, None, "no external grid: cannot tell where supply enters")

    source = _source_nodes(externals, nodes.level, lines, switches, transformers)
    notes = [f"source: external grid at {', '.join(externals)}; {len(source)} substation node(s)"]
    elements = _elements(lines, switches, transformers, ratings, nodes.level, source, notes)
    ext_kv = nodes.vm.get(externals[0])
    mv_kv = [v for n in source if nodes.level[n] == MV and (v := nodes.vm.get(n)) is not None]
    return RawNetwork(
        buses=buses,
        elements=elements,
        loads=loads,
        source_buses=[externals[0], *(n for n in buses if n in source and n != externals[0])],
        geographic=True,
        substation_kv=ext_kv,
        feeder_kv=max(mv_kv) if mv_kv else None,
        notes=notes,
    )


def _read_tables(directory: Path) -> _Tables:
    def read(filename: str, required: tuple[str, ...], *, optional: bool = False) -> list[Row]:
        return read_table(
            directory, filename, required=required, delimiter=_SEP, optional_file=optional
        )

    return _Tables(
        coords=read(COORDINATES, ("id", "x", "y")),
        nodes=read(NODES, ("id", "coordID", "subnet", "voltLvl")),
        lines=read(LINES, ("id", "nodeA", "nodeB", "subnet")),
        switches=read(SWITCHES, ("id", "nodeA", "nodeB", "type", "cond", "subnet")),
        transformers=read(TRANSFORMERS, ("id", "nodeHV", "nodeLV", "type")),
        loads=read(LOADS, ("id", "node")),
        externals=read(EXTERNAL, ("id", "node")),
        types=read(TRANSFORMER_TYPES, ("id", "sR"), optional=True),
    )


def _read_coordinates(rows: list[Row]) -> dict[str, tuple[float, float]]:
    coords: dict[str, tuple[float, float]] = {}
    for row in rows:
        x, y = row.number("x") or 0.0, row.number("y") or 0.0  # required: never None
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise row.error(f"coordinate ({x:g}, {y:g}) is not a longitude/latitude")
        coords[row.text("id")] = (x, y)
    return coords


def _read_nodes(rows: list[Row], coords: dict[str, tuple[float, float]]) -> _Nodes:
    nodes = _Nodes({}, {}, {})
    first: dict[str, int] = {}
    for row in rows:
        name = row.text("id")
        if name in nodes.buses:
            raise row.error(f"node '{name}' appears twice (first on line {first[name]})")
        first[name] = row.line
        coord_id = row.text("coordID", required=False)
        xy = None
        if coord_id and coord_id.upper() != "NULL":
            if coord_id not in coords:
                raise row.error(f"coordinate '{coord_id}' is not in {COORDINATES}")
            xy = coords[coord_id]
        nodes.buses[name] = Bus(name, *(xy or (None, None)))
        nodes.level[name] = row.integer("voltLvl")
        nodes.vm[name] = row.number("vmR", required=False) if "vmR" in row.values else None
    if not nodes.buses:
        raise NetworkFileError(NODES, None, "no nodes")
    return nodes


def _node_of(row: Row, column: str, buses: dict[str, Bus]) -> str:
    name = row.text(column)
    if name not in buses:
        raise row.error(f"node '{name}' is not in {NODES}")
    return name


def _check_unique(rows: list[Row], file: str) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        key = row.text("id")
        if key in seen:
            raise row.error(f"'{key}' appears twice in {file} (first on line {seen[key]})")
        seen[key] = row.line


def _read_switches(rows: list[Row], buses: dict[str, Bus]) -> list[_Switch]:
    switches = []
    for r in rows:
        cond = r.integer("cond")
        if cond not in (0, 1):
            raise r.error(f"column 'cond' must be 0 or 1, not {cond}")
        switches.append(
            _Switch(
                r.text("id"),
                _node_of(r, "nodeA", buses),
                _node_of(r, "nodeB", buses),
                r.text("type").upper(),
                cond == 0,
                r.text("subnet", required=False),
            )
        )
    return switches


def _read_ratings(rows: list[Row]) -> dict[str, float]:
    """Transformer type → rating in kVA."""
    ratings: dict[str, float] = {}
    for r in rows:
        s_r = r.number("sR", required=False)
        if s_r is not None:
            ratings[r.text("id")] = s_r * 1000  # MVA -> kVA
    return ratings


def _read_loads(rows: list[Row], buses: dict[str, Bus]) -> list[Load]:
    loads = []
    for r in rows:
        p_load = r.number("pLoad", required=False) if "pLoad" in r.values else None
        loads.append(
            Load(r.text("id"), _node_of(r, "node", buses), p_load * 1000 if p_load else None)
        )
    return loads


def _source_nodes(
    externals: list[str],
    level: dict[str, int],
    lines: list[_Line],
    switches: list[_Switch],
    transformers: list[_Transformer],
) -> set[str]:
    """The source: everything upstream of the MV feeders' cables."""
    has_cable = {n for line in lines for n in (line.a, line.b)}
    has_dist_xf = {xf.hv for xf in transformers if level[xf.lv] >= LV_MIN}

    def station_internal(node: str) -> bool:
        return level[node] < MV or (node not in has_cable and node not in has_dist_xf)

    adjacency: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        if level[line.a] < MV and level[line.b] < MV:
            adjacency[line.a].append(line.b)
            adjacency[line.b].append(line.a)
    for sw in switches:
        if not sw.is_open:
            if station_internal(sw.b):
                adjacency[sw.a].append(sw.b)
            if station_internal(sw.a):
                adjacency[sw.b].append(sw.a)
    for xf in transformers:
        if level[xf.lv] < LV_MIN:
            adjacency[xf.hv].append(xf.lv)
            adjacency[xf.lv].append(xf.hv)
    source = set(externals)
    queue = deque(externals)
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in source:
                source.add(nxt)
                queue.append(nxt)
    return source


def _hint(subnet: str) -> str | None:
    return subnet if _FEEDER_SUBNET.search(subnet) else None


def _elements(
    lines: list[_Line],
    switches: list[_Switch],
    transformers: list[_Transformer],
    ratings: dict[str, float],
    level: dict[str, int],
    source: set[str],
    notes: list[str],
) -> list[Element]:
    """Cables, MV switches (heads as breakers; LV ones contracted) and transformers (HV/MV
    ones contracted into the source); what was contracted or left out goes to ``notes``."""
    elements: list[Element] = []
    for line_id, a, b, subnet in lines:
        if a in source and b in source:
            continue
        elements.append(
            Element(line_id, Role.CONDUCTOR, a, b, feeder_hint=_hint(subnet), group=subnet or None)
        )
    station_switches = 0
    open_lv = 0
    for sw_id, a, b, sw_type, is_open, subnet in switches:
        if a in source and b in source:
            station_switches += 1
            continue
        if level[a] >= LV_MIN and level[b] >= LV_MIN:
            if is_open:
                open_lv += 1
            else:
                elements.append(Element(sw_id, Role.CONDUCTOR, a, b))
            continue
        head = (a in source) != (b in source)
        kind = KIND_BREAKER if head else _SWITCH_KINDS.get(sw_type, KIND_LOAD_BREAK_SWITCH)
        elements.append(Element(sw_id, Role.SWITCH, a, b, kind, is_open, feeder_hint=_hint(subnet)))
    supply_xf = 0
    for xf_id, hv, lv, xf_type in transformers:
        if level[lv] < LV_MIN:
            supply_xf += 1
            if not (hv in source and lv in source):
                elements.append(Element(xf_id, Role.CONDUCTOR, hv, lv))
            continue
        elements.append(Element(xf_id, Role.TRANSFORMER, hv, lv, rating_kva=ratings.get(xf_type)))
    notes.append(
        f"{supply_xf} HV/MV transformer(s) and {station_switches} substation switch(es) "
        "contracted into the source"
    )
    if open_lv:
        notes.append(f"{open_lv} open LV switch(es) left out")
    return elements
