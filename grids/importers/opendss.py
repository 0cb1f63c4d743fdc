"""Reader for the CSV tables derived from OpenDSS test feeders. Pure Python, no ORM.

Files (``,``-separated, see ``../shared/data/README.md``): ``buses.csv``, ``lines.csv``
(``is_switch``, ``enabled``), ``transformers.csv`` and ``loads.csv``. Bus references carry
phase suffixes (``671.1.2.3``); the bus is the part before the first dot.

Modelling choices, all listed in the import's notes:

* **Source.** ``--source-bus`` if given, else the highest-voltage bus that any element touches
  (ties: the first in ``buses.csv``). That is ``sourcebus`` for IEEE 13, ``150`` for IEEE 123
  and ``hvmv_sub_hsb`` for IEEE 8500, whose ``sourcebus`` is cut off in the tables (its only
  link is a series reactor the export does not contain).
* **Substation.** The buses joined to the source by transformer rows without an ``xfmrcode``
  (the substation bank and its regulators) are the substation; they become the one source
  node. Every line leaving the substation is a feeder head and becomes a breaker, whether the
  file calls it a switch (IEEE 123 ``sw1``) or plain conductor (IEEE 13 ``650632``, IEEE 8500
  ``hvmv_sub_connector``); there is no separate breaker element in these tables.
* **Regulators.** All other transformer rows without an ``xfmrcode`` (line regulators, and
  the ``xfm1`` of IEEE 13/123) carry current like conductor and are contracted: they have no
  switching role and no customers of their own. Loads behind them get synthetic transformers.
* **Service transformers** are the rows with an ``xfmrcode`` (IEEE 8500): a transformer device
  from the first winding's bus to the second's; a third winding on another bus (a split-phase
  secondary usually shares one bus) is joined to the second as conductor.
* **Switches** (``is_switch == 1``) become load-break switches; ``enabled == 0`` means normally
  open and open now. OpenDSS does not say what kind of switch a line is.
* **Dead-end ties.** IEEE 123 parks its two normally-open ties (Sw7 151-300, Sw8 54-94) on
  dummy buses ``300_open`` / ``94_open`` that nothing else touches. A switch ending on such a
  ``<bus>_open`` bus is reconnected to ``<bus>`` and made normally open, which is the feeder as
  the IEEE test case describes it.
* **Lateral fuses.** OpenDSS exports carry no fuses (the IEEE 8500 ``Fuses.DSS`` is not in the
  tables), yet fault location needs the protective devices of laterals. With
  ``lateral_fuses`` (the default) a single-phase line that taps a multi-phase bus is imported as
  a fuse: the head of each single-phase lateral. IEEE 13 gets 2, IEEE 123 27, IEEE 8500 221.
* Disabled conductor and disabled transformers carry nothing and are left out; loads are
  imported whatever their ``enabled`` flag (a customer is a customer).
"""

import math
from collections import defaultdict, deque
from pathlib import Path

from .plan import (
    KIND_BREAKER,
    KIND_FUSE,
    KIND_LOAD_BREAK_SWITCH,
    Bus,
    Element,
    Load,
    RawNetwork,
    Role,
)
from .tables import NetworkFileError, Row, read_table

BUSES = "buses.csv"
LINES = "lines.csv"
TRANSFORMERS = "transformers.csv"
LOADS = "loads.csv"
_OPEN_SUFFIX = "_open"


def _or_lowest(value: float | None) -> float:
    return value if value is not None else -math.inf


def _bus_name(reference: str) -> str:
    return reference.split(".", 1)[0].strip().lower()


def read_opendss_csv(
    directory: Path, *, source_bus: str | None = None, lateral_fuses: bool = True
) -> RawNetwork:
    """Read the four tables in ``directory``; raises ``NetworkFileError`` naming file and line."""
    bus_rows = read_table(
        directory, BUSES, required=("bus", "x", "y", "has_coords", "kv_base_ln", "num_nodes")
    )
    line_rows = read_table(
        directory, LINES, required=("line", "bus1", "bus2", "phases", "is_switch", "enabled")
    )
    xf_rows = read_table(
        directory, TRANSFORMERS, required=("transformer", "buses", "kva", "xfmrcode", "enabled")
    )
    load_rows = read_table(directory, LOADS, required=("load", "bus", "kw", "enabled"))

    buses: dict[str, Bus] = {}
    kv: dict[str, float | None] = {}
    nodes: dict[str, int | None] = {}
    first_line: dict[str, int] = {}
    for row in bus_rows:
        name = row.text("bus").lower()
        if name in buses:
            raise row.error(f"bus '{name}' appears twice (first on line {first_line[name]})")
        first_line[name] = row.line
        has_xy = row.flag("has_coords")
        x = row.number("x") if has_xy else None
        y = row.number("y") if has_xy else None
        buses[name] = Bus(name, x, y)
        kv[name] = row.number("kv_base_ln", required=False)
        n = row.number("num_nodes", required=False)
        nodes[name] = int(n) if n is not None else None
    if not buses:
        raise NetworkFileError(BUSES, None, "no buses")

    def bus_of(row: Row, column: str) -> str:
        name = _bus_name(row.text(column))
        if name not in buses:
            raise row.error(f"bus '{name}' is not in {BUSES}")
        return name

    notes: list[str] = []
    # (id, bus1, bus2, phases, is_switch, enabled)
    lines: list[tuple[str, str, str, int, bool, bool]] = []
    seen: dict[str, int] = {}
    for row in line_rows:
        line_id = row.text("line").lower()
        if line_id in seen:
            raise row.error(f"line '{line_id}' appears twice (first on line {seen[line_id]})")
        seen[line_id] = row.line
        lines.append(
            (
                line_id,
                bus_of(row, "bus1"),
                bus_of(row, "bus2"),
                row.integer("phases"),
                row.flag("is_switch"),
                row.flag("enabled"),
            )
        )

    # (id, buses, kva, has_code, enabled)
    transformers: list[tuple[str, list[str], float, bool, bool]] = []
    xf_seen: dict[str, int] = {}
    for row in xf_rows:
        xf_id = row.text("transformer").lower()
        if xf_id in xf_seen:
            raise row.error(f"transformer '{xf_id}' appears twice (first on line {xf_seen[xf_id]})")
        if xf_id in seen:
            raise row.error(f"transformer '{xf_id}' has the name of a line in {LINES}")
        xf_seen[xf_id] = row.line
        refs = row.text("buses").split()
        winding_buses = []
        for ref in refs:
            name = _bus_name(ref)
            if name not in buses:
                raise row.error(f"bus '{name}' is not in {BUSES}")
            winding_buses.append(name)
        if len(winding_buses) < 2:
            raise row.error("a transformer needs at least two buses")
        kva = row.number("kva")
        assert kva is not None
        if kva <= 0:
            raise row.error(f"column 'kva' must be positive, not {kva:g}")
        has_code = bool(row.text("xfmrcode", required=False))
        transformers.append((xf_id, winding_buses, kva, has_code, row.flag("enabled")))

    loads: list[Load] = []
    load_seen: dict[str, int] = {}
    for row in load_rows:
        load_id = row.text("load").lower()
        if load_id in load_seen:
            raise row.error(f"load '{load_id}' appears twice (first on line {load_seen[load_id]})")
        load_seen[load_id] = row.line
        loads.append(Load(load_id, bus_of(row, "bus"), row.number("kw")))

    # Which buses something connects to (for the source guess and dead-end ties).
    incidence: dict[str, int] = defaultdict(int)
    for _, b1, b2, _, is_switch, enabled in lines:
        if enabled or is_switch:
            incidence[b1] += 1
            incidence[b2] += 1
    for _, wbuses, _, _, enabled in transformers:
        if enabled:
            for b in set(wbuses):
                incidence[b] += 1
    for load in loads:
        incidence[load.bus] += 1

    if source_bus is not None:
        source = source_bus.strip().lower()
        if source not in buses:
            raise NetworkFileError(BUSES, None, f"source bus '{source}' is not in {BUSES}")
    else:
        connected = [b for b in buses if incidence.get(b)]
        if not connected:
            raise NetworkFileError(LINES, None, "no element connects any bus")
        source = max(connected, key=lambda b: _or_lowest(kv[b]))

    # The substation: buses joined to the source by transformer rows without an xfmrcode.
    bank_adjacency: dict[str, set[str]] = defaultdict(set)
    for _, wbuses, _, has_code, enabled in transformers:
        if enabled and not has_code:
            for b in wbuses:
                bank_adjacency[b].update(wbuses)
    substation = {source}
    queue = deque([source])
    while queue:
        for nxt in bank_adjacency.get(queue.popleft(), ()):
            if nxt not in substation:
                substation.add(nxt)
                queue.append(nxt)

    elements: list[Element] = []
    heads = 0
    fuses = 0
    retargeted = 0
    skipped = 0
    for line_id, b1, b2, phases, is_switch, enabled in lines:
        if not is_switch and not enabled:
            skipped += 1
            continue
        is_open = not enabled
        if (b1 in substation) != (b2 in substation):
            heads += 1
            elements.append(Element(line_id, Role.SWITCH, b1, b2, KIND_BREAKER, is_open))
            continue
        if is_switch:
            ends = []
            for b in (b1, b2):
                base = b.removesuffix(_OPEN_SUFFIX)
                if b != base and base in buses and incidence.get(b) == 1:
                    ends.append(base)
                    is_open = True
                    retargeted += 1
                else:
                    ends.append(b)
            elements.append(
                Element(line_id, Role.SWITCH, ends[0], ends[1], KIND_LOAD_BREAK_SWITCH, is_open)
            )
            continue
        n1, n2 = nodes.get(b1), nodes.get(b2)
        if (
            lateral_fuses
            and phases == 1
            and n1 is not None
            and n2 is not None
            and max(n1, n2) >= 2
            and min(n1, n2) == 1
        ):
            fuses += 1
            # The multi-phase end is the tap, i.e. upstream.
            a, b = (b1, b2) if n1 >= n2 else (b2, b1)
            elements.append(Element(line_id, Role.SWITCH, a, b, KIND_FUSE))
            continue
        elements.append(Element(line_id, Role.CONDUCTOR, b1, b2))

    contracted = 0
    for xf_id, wbuses, kva, has_code, enabled in transformers:
        if not enabled:
            skipped += 1
            continue
        if not has_code:
            contracted += 1
            for i, b in enumerate(wbuses[1:]):
                elements.append(Element(f"{xf_id}~{i}", Role.CONDUCTOR, wbuses[0], b))
            continue
        elements.append(Element(xf_id, Role.TRANSFORMER, wbuses[0], wbuses[1], rating_kva=kva))
        for i, b in enumerate(wbuses[2:]):
            if b != wbuses[1]:
                elements.append(Element(f"{xf_id}~{i}", Role.CONDUCTOR, wbuses[1], b))

    if heads == 0:
        raise NetworkFileError(
            LINES, None, f"no line leaves the substation at source bus '{source}'"
        )
    notes.append(f"source bus '{source}'; substation buses: {', '.join(sorted(substation))}")
    notes.append(f"{heads} feeder head line(s) imported as breakers")
    notes.append(f"{contracted} transformer row(s) without xfmrcode contracted as conductor")
    if fuses:
        notes.append(f"{fuses} fuse(s) synthesised at the heads of single-phase laterals")
    if retargeted:
        notes.append(f"{retargeted} switch end(s) on dead-end '*_open' buses reconnected as ties")
    if skipped:
        notes.append(f"{skipped} disabled line/transformer row(s) left out")

    head_far = next(
        (el.bus_b if el.bus_a in substation else el.bus_a)
        for el in elements
        if el.kind == KIND_BREAKER
    )
    sub_kv = kv.get(source)
    feeder_kv = kv.get(head_far)
    return RawNetwork(
        buses=buses,
        elements=elements,
        loads=loads,
        source_buses=[source, *(b for b in buses if b in substation and b != source)],
        geographic=False,
        substation_kv=round(sub_kv * math.sqrt(3), 2) if sub_kv else None,
        feeder_kv=round(feeder_kv * math.sqrt(3), 2) if feeder_kv else None,
        notes=notes,
    )
