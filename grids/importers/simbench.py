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


def read_simbench(directory: Path) -> RawNetwork:
    """Read a SimBench grid from ``directory``; raises ``NetworkFileError`` naming file and line."""
    coord_rows = read_table(directory, COORDINATES, required=("id", "x", "y"), delimiter=_SEP)
    node_rows = read_table(
        directory, NODES, required=("id", "coordID", "subnet", "voltLvl"), delimiter=_SEP
    )
    line_rows = read_table(
        directory, LINES, required=("id", "nodeA", "nodeB", "subnet"), delimiter=_SEP
    )
    switch_rows = read_table(
        directory,
        SWITCHES,
        required=("id", "nodeA", "nodeB", "type", "cond", "subnet"),
        delimiter=_SEP,
    )
    xf_rows = read_table(
        directory, TRANSFORMERS, required=("id", "nodeHV", "nodeLV", "type"), delimiter=_SEP
    )
    load_rows = read_table(directory, LOADS, required=("id", "node"), delimiter=_SEP)
    ext_rows = read_table(directory, EXTERNAL, required=("id", "node"), delimiter=_SEP)
    type_rows = read_table(
        directory, TRANSFORMER_TYPES, required=("id", "sR"), delimiter=_SEP, optional_file=True
    )

    coords: dict[str, tuple[float, float]] = {}
    for row in coord_rows:
        x, y = row.number("x") or 0.0, row.number("y") or 0.0  # required: never None
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise row.error(f"coordinate ({x:g}, {y:g}) is not a longitude/latitude")
        coords[row.text("id")] = (x, y)

    buses: dict[str, Bus] = {}
    level: dict[str, int] = {}
    vm: dict[str, float | None] = {}
    first: dict[str, int] = {}
    for row in node_rows:
        name = row.text("id")
        if name in buses:
            raise row.error(f"node '{name}' appears twice (first on line {first[name]})")
        first[name] = row.line
        coord_id = row.text("coordID", required=False)
        xy = None
        if coord_id and coord_id.upper() != "NULL":
            if coord_id not in coords:
                raise row.error(f"coordinate '{coord_id}' is not in {COORDINATES}")
            xy = coords[coord_id]
        buses[name] = Bus(name, *(xy or (None, None)))
        level[name] = row.integer("voltLvl")
        vm[name] = row.number("vmR", required=False) if "vmR" in row.values else None
    if not buses:
        raise NetworkFileError(NODES, None, "no nodes")

    def node_of(row: Row, column: str) -> str:
        name = row.text(column)
        if name not in buses:
            raise row.error(f"node '{name}' is not in {NODES}")
        return name

    def unique(rows: list[Row], file: str) -> None:
        seen: dict[str, int] = {}
        for row in rows:
            key = row.text("id")
            if key in seen:
                raise row.error(f"'{key}' appears twice in {file} (first on line {seen[key]})")
            seen[key] = row.line

    for rows, file in (
        (line_rows, LINES),
        (switch_rows, SWITCHES),
        (xf_rows, TRANSFORMERS),
        (load_rows, LOADS),
    ):
        unique(rows, file)

    lines = [
        (r.text("id"), node_of(r, "nodeA"), node_of(r, "nodeB"), r.text("subnet", required=False))
        for r in line_rows
    ]
    switches = []
    for r in switch_rows:
        cond = r.integer("cond")
        if cond not in (0, 1):
            raise r.error(f"column 'cond' must be 0 or 1, not {cond}")
        switches.append(
            (
                r.text("id"),
                node_of(r, "nodeA"),
                node_of(r, "nodeB"),
                r.text("type").upper(),
                cond == 0,
                r.text("subnet", required=False),
            )
        )
    ratings: dict[str, float] = {}
    for r in type_rows:
        s_r = r.number("sR", required=False)
        if s_r is not None:
            ratings[r.text("id")] = s_r * 1000  # MVA -> kVA
    transformers = [
        (r.text("id"), node_of(r, "nodeHV"), node_of(r, "nodeLV"), r.text("type")) for r in xf_rows
    ]
    loads = []
    for r in load_rows:
        p_load = r.number("pLoad", required=False) if "pLoad" in r.values else None
        loads.append(Load(r.text("id"), node_of(r, "node"), p_load * 1000 if p_load else None))
    externals = [node_of(r, "node") for r in ext_rows]
    if not externals:
        raise NetworkFileError(EXTERNAL, None, "no external grid: cannot tell where supply enters")

    # The source: everything upstream of the MV feeders' cables.
    has_cable = {n for _, a, b, _ in lines for n in (a, b)}
    has_dist_xf = {hv for _, hv, lv, _ in transformers if level[lv] >= LV_MIN}

    def station_internal(node: str) -> bool:
        return level[node] < MV or (node not in has_cable and node not in has_dist_xf)

    adjacency: dict[str, list[str]] = defaultdict(list)
    for _, a, b, _ in lines:
        if level[a] < MV and level[b] < MV:
            adjacency[a].append(b)
            adjacency[b].append(a)
    for _, a, b, _, is_open, _ in switches:
        if not is_open:
            if station_internal(b):
                adjacency[a].append(b)
            if station_internal(a):
                adjacency[b].append(a)
    for _, hv, lv, _ in transformers:
        if level[lv] < LV_MIN:
            adjacency[hv].append(lv)
            adjacency[lv].append(hv)
    source = set(externals)
    queue = deque(externals)
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in source:
                source.add(nxt)
                queue.append(nxt)

    def hint(subnet: str) -> str | None:
        return subnet if _FEEDER_SUBNET.search(subnet) else None

    elements: list[Element] = []
    station_switches = 0
    open_lv = 0
    for line_id, a, b, subnet in lines:
        if a in source and b in source:
            continue
        elements.append(
            Element(line_id, Role.CONDUCTOR, a, b, feeder_hint=hint(subnet), group=subnet or None)
        )
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
        elements.append(Element(sw_id, Role.SWITCH, a, b, kind, is_open, feeder_hint=hint(subnet)))
    supply_xf = 0
    for xf_id, hv, lv, xf_type in transformers:
        if level[lv] < LV_MIN:
            supply_xf += 1
            if not (hv in source and lv in source):
                elements.append(Element(xf_id, Role.CONDUCTOR, hv, lv))
            continue
        elements.append(Element(xf_id, Role.TRANSFORMER, hv, lv, rating_kva=ratings.get(xf_type)))

    notes = [
        f"source: external grid at {', '.join(externals)}; {len(source)} substation node(s)",
        f"{supply_xf} HV/MV transformer(s) and {station_switches} substation switch(es) "
        "contracted into the source",
    ]
    if open_lv:
        notes.append(f"{open_lv} open LV switch(es) left out")
    ext_kv = vm.get(externals[0])
    mv_kv = [v for n in source if level[n] == MV and (v := vm.get(n)) is not None]
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
