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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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
BUS_COLUMNS = ("bus", "x", "y", "has_coords", "kv_base_ln", "num_nodes")
LINE_COLUMNS = ("line", "bus1", "bus2", "phases", "is_switch", "enabled")
TRANSFORMER_COLUMNS = ("transformer", "buses", "kva", "xfmrcode", "enabled")
LOAD_COLUMNS = ("load", "bus", "kw", "enabled")


def _or_lowest(value: float | None) -> float:
    return value if value is not None else -math.inf


def _bus_name(reference: str) -> str:
    return reference.split(".", 1)[0].strip().lower()


class _BusTable(NamedTuple):
    buses: dict[str, Bus]
    kv: dict[str, float | None]
    nodes: dict[str, int | None]


class _Line(NamedTuple):
    id: str
    bus1: str
    bus2: str
    phases: int
    is_switch: bool
    enabled: bool


class _Transformer(NamedTuple):
    id: str
    buses: list[str]
    kva: float
    has_code: bool
    enabled: bool


@dataclass
class _Counts:
    """What the element pass did, for the import's notes."""

    heads: int = 0
    fuses: int = 0
    retargeted: int = 0
    skipped: int = 0
    contracted: int = 0


def read_opendss_csv(
    directory: Path, *, source_bus: str | None = None, lateral_fuses: bool = True
) -> RawNetwork:
    """Read the four tables in ``directory``; raises ``NetworkFileError`` naming file and line."""
    # Every file and its columns are checked before any row is.
    bus_rows = read_table(directory, BUSES, required=BUS_COLUMNS)
    line_rows = read_table(directory, LINES, required=LINE_COLUMNS)
    xf_rows = read_table(directory, TRANSFORMERS, required=TRANSFORMER_COLUMNS)
    load_rows = read_table(directory, LOADS, required=LOAD_COLUMNS)
    table = _read_buses(bus_rows)
    lines = _read_lines(line_rows, table.buses)
    line_ids = {line.id for line in lines}
    transformers = _read_transformers(xf_rows, table.buses, line_ids=line_ids)
    loads = _read_loads(load_rows, table.buses)

    incidence = _incidence(lines, transformers, loads)
    source = _pick_source(source_bus, table, incidence)
    substation = _substation(source, transformers)
    counts = _Counts()
    elements = _line_elements(
        lines, table, substation, incidence, counts, lateral_fuses=lateral_fuses
    )
    elements += _transformer_elements(transformers, counts)
    if counts.heads == 0:
        raise NetworkFileError(
            LINES, None, f"no line leaves the substation at source bus '{source}'"
        )

    head_far = next(
        (el.bus_b if el.bus_a in substation else el.bus_a)
        for el in elements
        if el.kind == KIND_BREAKER
    )
    sub_kv = table.kv.get(source)
    feeder_kv = table.kv.get(head_far)
    return RawNetwork(
        buses=table.buses,
        elements=elements,
        loads=loads,
        source_buses=[source, *(b for b in table.buses if b in substation and b != source)],
        geographic=False,
        substation_kv=round(sub_kv * math.sqrt(3), 2) if sub_kv else None,
        feeder_kv=round(feeder_kv * math.sqrt(3), 2) if feeder_kv else None,
        notes=_notes(source, substation, counts),
    )


def _read_buses(rows: Iterable[Row]) -> _BusTable:
    table = _BusTable({}, {}, {})
    first_line: dict[str, int] = {}
    for row in rows:
        name = row.text("bus").lower()
        if name in table.buses:
            raise row.error(f"bus '{name}' appears twice (first on line {first_line[name]})")
        first_line[name] = row.line
        has_xy = row.flag("has_coords")
        x = row.number("x") if has_xy else None
        y = row.number("y") if has_xy else None
        table.buses[name] = Bus(name, x, y)
        table.kv[name] = row.number("kv_base_ln", required=False)
        n = row.number("num_nodes", required=False)
        table.nodes[name] = int(n) if n is not None else None
    if not table.buses:
        raise NetworkFileError(BUSES, None, "no buses")
    return table


def _bus_of(row: Row, column: str, buses: Mapping[str, Bus]) -> str:
    name = _bus_name(row.text(column))
    if name not in buses:
        raise row.error(f"bus '{name}' is not in {BUSES}")
    return name


def _read_lines(rows: Iterable[Row], buses: Mapping[str, Bus]) -> list[_Line]:
    lines: list[_Line] = []
    seen: dict[str, int] = {}
    for row in rows:
        line_id = row.text("line").lower()
        if line_id in seen:
            raise row.error(f"line '{line_id}' appears twice (first on line {seen[line_id]})")
        seen[line_id] = row.line
        lines.append(
            _Line(
                line_id,
                _bus_of(row, "bus1", buses),
                _bus_of(row, "bus2", buses),
                row.integer("phases"),
                row.flag("is_switch"),
                row.flag("enabled"),
            )
        )
    return lines


def _read_transformers(
    rows: Iterable[Row], buses: Mapping[str, Bus], *, line_ids: set[str]
) -> list[_Transformer]:
    transformers: list[_Transformer] = []
    xf_seen: dict[str, int] = {}
    for row in rows:
        xf_id = row.text("transformer").lower()
        if xf_id in xf_seen:
            raise row.error(f"transformer '{xf_id}' appears twice (first on line {xf_seen[xf_id]})")
        if xf_id in line_ids:
            raise row.error(f"transformer '{xf_id}' has the name of a line in {LINES}")
        xf_seen[xf_id] = row.line
        winding_buses = []
        for ref in row.text("buses").split():
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
        transformers.append(_Transformer(xf_id, winding_buses, kva, has_code, row.flag("enabled")))
    return transformers


def _read_loads(rows: Iterable[Row], buses: Mapping[str, Bus]) -> list[Load]:
    loads: list[Load] = []
    load_seen: dict[str, int] = {}
    for row in rows:
        load_id = row.text("load").lower()
        if load_id in load_seen:
            raise row.error(f"load '{load_id}' appears twice (first on line {load_seen[load_id]})")
        load_seen[load_id] = row.line
        loads.append(Load(load_id, _bus_of(row, "bus", buses), row.number("kw")))
    return loads


def _incidence(
    lines: list[_Line], transformers: list[_Transformer], loads: list[Load]
) -> dict[str, int]:
    """How many elements touch each bus (for the source guess and dead-end ties)."""
    incidence: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.enabled or line.is_switch:
            incidence[line.bus1] += 1
            incidence[line.bus2] += 1
    for xf in transformers:
        if xf.enabled:
            for b in set(xf.buses):
                incidence[b] += 1
    for load in loads:
        incidence[load.bus] += 1
    return incidence


def _pick_source(source_bus: str | None, table: _BusTable, incidence: Mapping[str, int]) -> str:
    """``source_bus`` if given, else the highest-voltage bus any element touches."""
    if source_bus is not None:
        source = source_bus.strip().lower()
        if source not in table.buses:
            raise NetworkFileError(BUSES, None, f"source bus '{source}' is not in {BUSES}")
        return source
    connected = [b for b in table.buses if incidence.get(b)]
    if not connected:
        raise NetworkFileError(LINES, None, "no element connects any bus")
    return max(connected, key=lambda b: _or_lowest(table.kv[b]))


def _substation(source: str, transformers: list[_Transformer]) -> set[str]:
    """The buses joined to the source by transformer rows without an xfmrcode."""
    bank_adjacency: dict[str, set[str]] = defaultdict(set)
    for xf in transformers:
        if xf.enabled and not xf.has_code:
            for b in xf.buses:
                bank_adjacency[b].update(xf.buses)
    substation = {source}
    queue = deque([source])
    while queue:
        for nxt in bank_adjacency.get(queue.popleft(), ()):
            if nxt not in substation:
                substation.add(nxt)
                queue.append(nxt)
    return substation


def _line_elements(
    lines: list[_Line],
    table: _BusTable,
    substation: set[str],
    incidence: Mapping[str, int],
    counts: _Counts,
    *,
    lateral_fuses: bool,
) -> list[Element]:
    """Feeder heads as breakers, switches (dead-end ties reconnected), lateral fuses and
    conductor; disabled conductor is left out."""
    elements: list[Element] = []
    for line_id, b1, b2, phases, is_switch, enabled in lines:
        if not is_switch and not enabled:
            counts.skipped += 1
            continue
        is_open = not enabled
        if (b1 in substation) != (b2 in substation):
            counts.heads += 1
            elements.append(Element(line_id, Role.SWITCH, b1, b2, KIND_BREAKER, is_open))
        elif is_switch:
            ends = []
            for b in (b1, b2):
                base = b.removesuffix(_OPEN_SUFFIX)
                if b != base and base in table.buses and incidence.get(b) == 1:
                    ends.append(base)
                    is_open = True
                    counts.retargeted += 1
                else:
                    ends.append(b)
            elements.append(
                Element(line_id, Role.SWITCH, ends[0], ends[1], KIND_LOAD_BREAK_SWITCH, is_open)
            )
        elif lateral_fuses and _is_lateral_head(phases, table.nodes.get(b1), table.nodes.get(b2)):
            counts.fuses += 1
            # The multi-phase end is the tap, i.e. upstream.
            n1, n2 = table.nodes[b1], table.nodes[b2]
            assert n1 is not None
            assert n2 is not None
            a, b = (b1, b2) if n1 >= n2 else (b2, b1)
            elements.append(Element(line_id, Role.SWITCH, a, b, KIND_FUSE))
        else:
            elements.append(Element(line_id, Role.CONDUCTOR, b1, b2))
    return elements


def _is_lateral_head(phases: int, n1: int | None, n2: int | None) -> bool:
    """A single-phase line that taps a multi-phase bus: the head of a lateral."""
    return (
        phases == 1 and n1 is not None and n2 is not None and max(n1, n2) >= 2 and min(n1, n2) == 1
    )


def _transformer_elements(transformers: list[_Transformer], counts: _Counts) -> list[Element]:
    """Service transformers (with an xfmrcode) as transformers, a third winding joined as
    conductor; the others contracted as conductor; disabled ones left out."""
    elements: list[Element] = []
    for xf_id, wbuses, kva, has_code, enabled in transformers:
        if not enabled:
            counts.skipped += 1
            continue
        if not has_code:
            counts.contracted += 1
            for i, b in enumerate(wbuses[1:]):
                elements.append(Element(f"{xf_id}~{i}", Role.CONDUCTOR, wbuses[0], b))
            continue
        elements.append(Element(xf_id, Role.TRANSFORMER, wbuses[0], wbuses[1], rating_kva=kva))
        for i, b in enumerate(wbuses[2:]):
            if b != wbuses[1]:
                elements.append(Element(f"{xf_id}~{i}", Role.CONDUCTOR, wbuses[1], b))
    return elements


def _notes(source: str, substation: set[str], counts: _Counts) -> list[str]:
    notes = [f"source bus '{source}'; substation buses: {', '.join(sorted(substation))}"]
    notes.append(f"{counts.heads} feeder head line(s) imported as breakers")
    notes.append(f"{counts.contracted} transformer row(s) without xfmrcode contracted as conductor")
    if counts.fuses:
        notes.append(f"{counts.fuses} fuse(s) synthesised at the heads of single-phase laterals")
    if counts.retargeted:
        notes.append(
            f"{counts.retargeted} switch end(s) on dead-end '*_open' buses reconnected as ties"
        )
    if counts.skipped:
        notes.append(f"{counts.skipped} disabled line/transformer row(s) left out")
    return notes
