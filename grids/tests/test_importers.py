"""The network importers, checked against an independent search over the raw CSV files.

The reference in these tests never goes through ``grids.topology`` or the importer's planner: it
reads the CSVs with the ``csv`` module, builds the raw bus graph (every line, switch and
transformer row an edge, nothing contracted) and runs a breadth-first search on it. For an
element ``e`` the loads and transformers "below" it are those reachable from the source with
``e`` closed minus those reachable with ``e`` removed; for a closed element that is exactly what
loses supply when it opens, for an open one it is what it would supply if closed (which is what
the selectors answer for open devices).
"""

import csv
import io
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from grids import selectors, services
from grids.geodata import DISTRICTS
from grids.importers import default_prefix, plan_network, read_simbench
from grids.models import Device, District, Feeder, Node, ServicePoint, Substation

pytestmark = pytest.mark.django_db

SWITCHING = sorted(Device.SWITCHING_KINDS)
SYNTHETIC = "#T"  # the importer's documented suffix of a synthetic transformer's code


# --- the independent reference --------------------------------------------------------------


class RawGraph:
    """Buses and element edges straight from the files: nothing contracted, nothing oriented.

    The search itself is scipy's breadth-first order on the undirected bus graph (SimBench has
    31k buses and the test runs well over a thousand searches).
    """

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.elements: dict[str, int] = {}
        self.edges: list[tuple[int, int, int]] = []  # (bus, bus, element)
        self.open: set[str] = set()
        self.transformer_hv: dict[str, int] = {}
        self.load_bus: dict[str, int] = {}
        self.source = -1
        self._arrays: tuple | None = None

    def node(self, name: str) -> int:
        return self.index.setdefault(name, len(self.index))

    def edge(self, element: str, a: str, b: str, *, is_open: bool = False) -> None:
        number = self.elements.setdefault(element, len(self.elements))
        self.edges.append((self.node(a), self.node(b), number))
        if is_open:
            self.open.add(element)
        self._arrays = None

    def ends(self, element: str) -> list[tuple[int, int]]:
        number = self.elements[element]
        return [(u, v) for u, v, e in self.edges if e == number]

    def add_synthetic_transformers(self, codes: list[str], prefix: str) -> None:
        """Loads on a bus given a synthetic transformer hang below it (importer's convention)."""
        for code in codes:
            element = code.removeprefix(prefix + ":")
            bus = self.index[element.removesuffix(SYNTHETIC)]
            self.edge(element, element.removesuffix(SYNTHETIC), element + "~lv")
            self.transformer_hv[element] = bus
            for load, node in self.load_bus.items():
                if node == bus:
                    self.load_bus[load] = self.index[element + "~lv"]
        self._arrays = None

    def _frozen(self) -> tuple:
        """Edge, transformer and load arrays; rebuilt after the graph changes."""
        if self._arrays is None:
            u, v, el = (np.array(col, dtype=np.int64) for col in zip(*self.edges, strict=True))
            t_ids, l_ids = list(self.transformer_hv), list(self.load_bus)
            t_nodes = np.array([self.transformer_hv[t] for t in t_ids], dtype=np.int64)
            l_nodes = np.array([self.load_bus[load] for load in l_ids], dtype=np.int64)
            self._arrays = (u, v, el, t_ids, t_nodes, l_ids, l_nodes)
        return self._arrays

    def reachable(self, *, removed: str | None = None, closed: str | None = None) -> np.ndarray:
        u, v, el = self._frozen()[:3]
        active = ~np.isin(el, [self.elements[e] for e in self.open])
        if closed is not None:
            active |= el == self.elements[closed]
        if removed is not None:
            active &= el != self.elements[removed]
        n = len(self.index)
        graph = coo_matrix(
            (np.ones(int(active.sum()), dtype=np.int8), (u[active], v[active])), shape=(n, n)
        ).tocsr()
        order = breadth_first_order(graph, self.source, directed=False, return_predecessors=False)
        seen = np.zeros(n, dtype=bool)
        seen[order] = True
        return seen

    def below(self, element: str, base: np.ndarray | None = None) -> tuple[set[str], set[str]]:
        """(transformers, loads) supplied through ``element`` (if it were closed)."""
        with_e = base if base is not None and element not in self.open else None
        if with_e is None:
            with_e = self.reachable(closed=element)
        without = self.reachable(removed=element)
        lost = with_e & ~without
        _, _, _, t_ids, t_nodes, l_ids, l_nodes = self._frozen()
        transformers = {t_ids[i] for i in np.flatnonzero(lost[t_nodes])}
        if element in self.transformer_hv and with_e[self.transformer_hv[element]]:
            transformers.add(element)
        loads = {l_ids[i] for i in np.flatnonzero(lost[l_nodes])}
        return transformers, loads


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def _bus(ref: str) -> str:
    return ref.split(".")[0].lower()


def raw_opendss(folder: Path, source: str, ties: dict[str, tuple[str, str]]) -> RawGraph:
    """The raw graph of OpenDSS-derived tables. ``ties``: switches the IEEE case documents as
    normally-open ties between two real buses (the CSV parks IEEE 123's on dummy buses)."""
    g = RawGraph()
    for row in _rows(folder / "buses.csv"):
        g.node(row["bus"].lower())
    for row in _rows(folder / "lines.csv"):
        line = row["line"].lower()
        enabled = row["enabled"] == "1"
        if line in ties:
            g.edge(line, *ties[line], is_open=True)
        elif row["is_switch"] == "1":
            g.edge(line, _bus(row["bus1"]), _bus(row["bus2"]), is_open=not enabled)
        elif enabled:
            g.edge(line, _bus(row["bus1"]), _bus(row["bus2"]))
    for row in _rows(folder / "transformers.csv"):
        if row["enabled"] != "1":
            continue
        name = row["transformer"].lower()
        buses = [_bus(ref) for ref in row["buses"].split()]
        for other in buses[1:]:
            g.edge(name, buses[0], other)
        if row["xfmrcode"]:
            g.transformer_hv[name] = g.index[buses[0]]
    for row in _rows(folder / "loads.csv"):
        g.load_bus[row["load"].lower()] = g.index[_bus(row["bus"])]
    g.source = g.index[source]
    return g


def raw_simbench(folder: Path) -> RawGraph:
    g = RawGraph()
    for row in _rows(folder / "Node.csv", ";"):
        g.node(row["id"])
    for row in _rows(folder / "Line.csv", ";"):
        g.edge(row["id"], row["nodeA"], row["nodeB"])
    for row in _rows(folder / "Switch.csv", ";"):
        g.edge(row["id"], row["nodeA"], row["nodeB"], is_open=row["cond"] == "0")
    levels = {row["id"]: int(row["voltLvl"]) for row in _rows(folder / "Node.csv", ";")}
    for row in _rows(folder / "Transformer.csv", ";"):
        g.edge(row["id"], row["nodeHV"], row["nodeLV"])
        if levels[row["nodeLV"]] >= 6:
            g.transformer_hv[row["id"]] = g.index[row["nodeHV"]]
    for row in _rows(folder / "Load.csv", ";"):
        g.load_bus[row["id"]] = g.index[row["node"]]
    (external,) = _rows(folder / "ExternalNet.csv", ";")
    g.source = g.index[external["node"]]
    return g


# --- comparing the application with the reference ------------------------------------------


def _element(device: Device, prefix: str) -> str:
    return device.code.removeprefix(prefix + ":")


def _app_below(device: Device, prefix: str) -> tuple[set[str], set[str]]:
    transformers = {
        _element(t, prefix) for t in selectors.device_downstream_transformers(device=device)
    }
    names = selectors.device_downstream_service_points(device=device).values_list(
        "customer_name", flat=True
    )
    return transformers, {name.removeprefix("用户") for name in names}


def _sample(prefix: str, seed: int = 20240601) -> list[Device]:
    """Every switching device of the import plus ~50 transformers chosen with a fixed seed."""
    mine = Device.objects.filter(feeder__substation__code=prefix)
    switching = list(mine.filter(kind__in=SWITCHING).order_by("code"))
    transformers = sorted(mine.filter(kind=Device.Kind.TRANSFORMER).values_list("pk", flat=True))
    chosen = random.Random(seed).sample(transformers, min(50, len(transformers)))
    return switching + list(Device.objects.filter(pk__in=chosen).order_by("code"))


def assert_matches_reference(graph: RawGraph, prefix: str, scenario: str) -> int:
    """Compare the selectors with the raw search for the sample; returns devices checked."""
    base = graph.reachable()
    mismatches = []
    sample = _sample(prefix)
    for device in sample:
        element = _element(device, prefix)
        want_t, want_l = graph.below(element, base)
        got_t, got_l = _app_below(device, prefix)
        if (got_t, got_l) != (want_t, want_l):
            mismatches.append(
                f"{device.code} ({device.kind}, open={device.is_open}): transformers "
                f"missing {sorted(want_t - got_t)[:5]} extra {sorted(got_t - want_t)[:5]}; "
                f"loads missing {sorted(want_l - got_l)[:5]} extra {sorted(got_l - want_l)[:5]}"
            )
    assert not mismatches, f"{scenario}: {len(mismatches)} of {len(sample)} differ:\n" + "\n".join(
        mismatches[:10]
    )
    return len(sample)


def _restoration_pair(graph: RawGraph, prefix: str) -> tuple[Device, Device]:
    """A closed switching device whose opening cuts off loads, and an open tie that re-feeds them.

    Chosen by the raw search alone. A tie with one end in the dead section and the other live
    restores all of it (the section is connected through closed elements). Of all such pairs
    the one with the median number of dead loads: a real section, not the whole feeder.
    """
    base = graph.reachable()
    mine = Device.objects.filter(feeder__substation__code=prefix, kind__in=SWITCHING)
    ties = [
        (t, graph.ends(_element(t, prefix))) for t in mine.filter(is_open=True).order_by("code")
    ]
    candidates = []
    for device in mine.filter(is_open=False).order_by("code"):
        cut = graph.reachable(removed=_element(device, prefix))
        dead = base & ~cut
        n_dead = sum(1 for node in graph.load_bus.values() if dead[node])
        if n_dead < 3:
            continue
        for tie, ends in ties:
            if any((dead[u] and cut[v]) or (dead[v] and cut[u]) for u, v in ends):
                candidates.append((n_dead, device.code, device, tie))
                break
    assert candidates, "no switch/tie pair to exercise restoration"
    candidates.sort(key=lambda c: (c[0], c[1]))
    _, _, device, tie = candidates[len(candidates) // 2]
    return device, tie


def check_three_scenarios(graph: RawGraph, prefix: str) -> None:
    # Given the network as imported (normal switch states)
    assert_matches_reference(graph, prefix, "normal")
    # When a normally-closed device opens
    device, tie = _restoration_pair(graph, prefix)
    services.device_set_open(device=device, is_open=True)
    graph.open.add(_element(device, prefix))
    # Then the selectors still agree with the raw search
    assert_matches_reference(graph, prefix, f"after opening {device.code}")
    # When the tie that re-feeds the dead section closes
    services.device_set_open(device=tie, is_open=False)
    graph.open.discard(_element(tie, prefix))
    # Then they agree again, and the whole section is supplied through the tie
    assert_matches_reference(graph, prefix, f"after closing {tie.code}")
    tie.refresh_from_db()
    assert tie.energized
    assert selectors.device_downstream_service_points(device=tie).exists()
    dead = Device.objects.filter(feeder__substation__code=prefix, energized=False, is_open=False)
    assert not dead.exists()


def _import(fmt: str, folder: Path, prefix: str, *extra: str) -> str:
    call_command(
        "import_network", fmt, str(folder), "--prefix", prefix, *extra, stdout=io.StringIO()
    )
    return prefix


def _in_bbox(lat: float | None, lng: float | None, bbox: tuple[float, ...]) -> bool:
    min_lng, min_lat, max_lng, max_lat = bbox
    return (
        lat is not None
        and lng is not None
        and min_lat <= lat <= max_lat
        and min_lng <= lng <= max_lng
    )


# --- IEEE feeders ------------------------------------------------------------------------------

IEEE = {
    # feeder: (source bus per the data README, documented normally-open ties)
    "ieee13": ("sourcebus", {}),
    "ieee123": ("150", {"sw7": ("151", "300"), "sw8": ("54", "94")}),
    "ieee8500": ("hvmv_sub_hsb", {}),
}


@pytest.mark.data
@pytest.mark.parametrize("feeder", ["ieee123", "ieee8500"])
def test_opendss_downstream_matches_raw_search_through_switching(shared_data, feeder):
    folder = shared_data / "network" / feeder / "derived_csv"
    prefix = _import("opendss-csv", folder, feeder)
    source, ties = IEEE[feeder]
    graph = raw_opendss(folder, source, ties)
    synthetic = Device.objects.filter(
        feeder__substation__code=prefix, code__endswith=SYNTHETIC
    ).values_list("code", flat=True)
    graph.add_synthetic_transformers(list(synthetic), prefix)
    # Every load became a service point under an energised transformer.
    assert ServicePoint.objects.filter(transformer__feeder__substation__code=prefix).count() == len(
        graph.load_bus
    )
    assert (
        not Device.objects.filter(feeder__substation__code=prefix, energized=False)
        .exclude(is_open=True)
        .exists()
    )
    check_three_scenarios(graph, prefix)


@pytest.mark.data
def test_ieee13_downstream_matches_raw_search(shared_data):
    folder = shared_data / "network" / "ieee13" / "derived_csv"
    prefix = _import("opendss-csv", folder, "i13")
    graph = raw_opendss(folder, "sourcebus", {})
    graph.add_synthetic_transformers(
        list(Device.objects.filter(code__endswith=SYNTHETIC).values_list("code", flat=True)), prefix
    )
    checked = assert_matches_reference(graph, prefix, "normal")
    # the head breaker, the 671-692 switch, two lateral fuses and the 9 load-bus transformers
    assert checked == 13
    head = Device.objects.get(code="i13:650632")
    assert head.kind == Device.Kind.BREAKER
    assert Node.objects.get(pk=head.node_a_id).is_source


@pytest.mark.data
def test_ieee8500_structure(shared_data):
    folder = shared_data / "network" / "ieee8500" / "derived_csv"
    prefix = _import("opendss-csv", folder, "i8500")
    mine = Device.objects.filter(feeder__substation__code=prefix)
    xfmr_rows = [r for r in _rows(folder / "transformers.csv") if r["xfmrcode"]]
    # Every service transformer row is a transformer device, none synthetic.
    assert mine.filter(kind=Device.Kind.TRANSFORMER).count() == len(xfmr_rows)
    assert not mine.filter(code__endswith=SYNTHETIC).exists()
    disabled = {r["line"] for r in _rows(folder / "lines.csv") if r["enabled"] == "0"}
    open_codes = {_element(d, prefix) for d in mine.filter(normally_open=True)}
    # Every disabled switch is a normally-open device, the tie in parallel with single-phase
    # conductor (wg127_48332_sw) included (see the notes).
    assert open_codes == disabled
    assert mine.filter(kind=Device.Kind.BREAKER).count() == 1
    assert Feeder.objects.filter(substation__code=prefix).count() == 1


# --- SimBench ----------------------------------------------------------------------------------

SIMBENCH = "simbench_1-MVLV-urban-all-0-sw"


@pytest.mark.data
def test_simbench_downstream_matches_raw_search_through_switching(shared_data):
    folder = shared_data / "network" / SIMBENCH
    prefix = _import("simbench", folder, "sb", "--district", "Nanshan")
    graph = raw_simbench(folder)
    synthetic = Device.objects.filter(code__endswith=SYNTHETIC).values_list("code", flat=True)
    graph.add_synthetic_transformers(list(synthetic), prefix)

    feeders = set(Feeder.objects.filter(substation__code=prefix).values_list("name", flat=True))
    assert {f"MV3.101_Feeder{i}" for i in range(1, 15)} <= feeders
    mine = Device.objects.filter(feeder__substation__code=prefix)
    assert mine.filter(kind=Device.Kind.TRANSFORMER).exclude(code__endswith=SYNTHETIC).count() == (
        len(graph.transformer_hv) - len(synthetic)
    )
    assert ServicePoint.objects.filter(district__name_en="Nanshan").count() == len(graph.load_bus)
    # Moved from northern Germany into Nanshan's bounding box, keeping the shape.
    nanshan = next(d for d in DISTRICTS if d.name_en == "Nanshan")
    assert all(_in_bbox(n.lat, n.lng, nanshan.bbox) for n in Node.objects.all())
    assert all(
        _in_bbox(lat, lng, nanshan.bbox)
        for lat, lng in ServicePoint.objects.values_list("lat", "lng")
    )
    # 11 ring ties and the 2 switching-station disconnectors (the 2 substation bus couplers are
    # inside the source node).
    assert mine.filter(normally_open=True).count() == 13
    assert not mine.filter(kind=Device.Kind.TRANSFORMER, energized=False).exists()
    check_three_scenarios(graph, prefix)


def test_simbench_reader_on_a_small_grid(tmp_path):
    """Two feeders from one substation, an LV network behind each transformer, one open tie."""
    _write_mini_simbench(tmp_path)
    plan = plan_network(read_simbench(tmp_path))
    by_key = {d.key: d for d in plan.devices}
    assert {f.label for f in plan.feeders} == {"MV1_Feeder1", "MV1_Feeder2"}
    assert by_key["CB1"].kind == "breaker"
    assert by_key["LBS1"].feeder == "MV1_Feeder1"
    assert by_key["T1"].feeder == "MV1_Feeder1"
    assert by_key["T2"].feeder == "MV1_Feeder2"
    assert by_key["TIE"].normally_open
    assert by_key["TIE"].is_open
    # The LV network (two lines, an LV switch) is one node; both its loads are under T1.
    assert [sp.transformer for sp in plan.service_points] == ["T1", "T1", "T2"]
    # Oriented from the source: the head breaker's upstream end is the source node.
    assert by_key["CB1"].node_a == plan.source
    assert by_key["LBS1"].node_b != by_key["CB1"].node_b


def _write_mini_simbench(folder: Path) -> None:
    def table(name: str, header: str, *rows: str) -> None:
        (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    table(
        "Node.csv",
        "id;type;vmR;coordID;subnet;voltLvl",
        "HV;busbar;110;c0;HV1;3",
        "BB;busbar;10;c0;MV1;5",
        "H1;auxiliary;10;c0;MV1;5",
        "H2;auxiliary;10;c0;MV1;5",
        "R1;busbar;10;c1;MV1_Feeder1;5",
        "R1a;auxiliary;10;c1;MV1_Feeder1;5",
        "R2;busbar;10;c2;MV1_Feeder2;5",
        "R2a;auxiliary;10;c2;MV1_Feeder2;5",
        "L1;busbar;0.4;c1;LV1;7",
        "L2;busbar;0.4;c1;LV1;7",
        "L3;busbar;0.4;c1;LV1;7",
        "M1;busbar;0.4;c2;LV2;7",
    )
    table(
        "Coordinates.csv", "id;x;y;subnet", "c0;11.0;53.0;x", "c1;11.01;53.01;x", "c2;11.02;53.0;x"
    )
    table(
        "Line.csv",
        "id;nodeA;nodeB;type;length;subnet;voltLvl",
        "C1;H1;R1;cable;1;MV1_Feeder1;5",
        "C2;H2;R2;cable;1;MV1_Feeder2;5",
        "C3;R1a;R2a;cable;1;MV1_Loop_Line;5",
        "LV-a;L1;L2;cable;0.1;LV1;7",
        "LV-b;L2;L3;cable;0.1;LV1;7",
    )
    table(
        "Switch.csv",
        "id;nodeA;nodeB;type;cond;subnet;voltLvl",
        "CB1;BB;H1;CB;1;MV1;5",
        "CB2;BB;H2;CB;1;MV1;5",
        "LBS1;R1;R1a;LBS;1;MV1_Feeder1;5",
        "TIE;R2a;R2;LBS;0;MV1_Feeder2;5",
        "LVS;L1;L3;LS;1;LV1;7",
    )
    table(
        "Transformer.csv",
        "id;nodeHV;nodeLV;type;subnet;voltLvl",
        "HVMV;HV;BB;63 MVA;MV1;4",
        "T1;R1;L1;0.4 MVA;LV1;6",
        "T2;R2;M1;0.63 MVA;LV2;6",
    )
    table("TransformerType.csv", "id;sR", "63 MVA;63", "0.4 MVA;0.4", "0.63 MVA;0.63")
    table(
        "Load.csv",
        "id;node;pLoad;subnet;voltLvl",
        "ld1;L2;0.003;LV1;7",
        "ld2;L3;0.002;LV1;7",
        "ld3;M1;0.004;LV2;7",
    )
    table("ExternalNet.csv", "id;node;subnet;voltLvl", "grid;HV;HV1;3")


def test_simbench_unknown_node_is_reported_with_file_and_line(tmp_path):
    _write_mini_simbench(tmp_path)
    text = (tmp_path / "Line.csv").read_text(encoding="utf-8").replace("H2;R2", "H2;R9")
    (tmp_path / "Line.csv").write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=r"^Line\.csv:3: node 'R9' is not in Node\.csv$"):
        _import("simbench", tmp_path, "mini")
    assert not Node.objects.exists()


# --- malformed files, transactions, district placement, prefixes -----------------------------


def _copy_ieee13(shared_data: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ieee13"
    shutil.copytree(shared_data / "network" / "ieee13" / "derived_csv", target)
    return target


def _edit_row(path: Path, first_cell: str, column: str, value: str) -> int:
    """Set ``column`` of the row whose first cell is ``first_cell``; returns its line number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for number, line in enumerate(lines, start=1):
        cells = line.split(",")
        if cells[0] == first_cell:
            cells[header.index(column)] = value
            lines[number - 1] = ",".join(cells)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return number
    raise AssertionError(f"no row {first_cell}")


def _nothing_imported() -> bool:
    return not any(m.objects.exists() for m in (Substation, Feeder, Node, Device, ServicePoint))


@pytest.mark.data
def test_unknown_bus_rejects_the_whole_import(shared_data, tmp_path):
    folder = _copy_ieee13(shared_data, tmp_path)
    line = _edit_row(folder / "lines.csv", "670671", "bus2", "nowhere.1.2.3")
    with pytest.raises(CommandError) as exc:
        _import("opendss-csv", folder, "bad")
    assert str(exc.value) == f"lines.csv:{line}: bus 'nowhere' is not in buses.csv"
    assert _nothing_imported()


@pytest.mark.data
def test_non_numeric_kva_rejects_the_whole_import(shared_data, tmp_path):
    folder = _copy_ieee13(shared_data, tmp_path)
    line = _edit_row(folder / "transformers.csv", "xfm1", "kva", "lots")
    with pytest.raises(CommandError) as exc:
        _import("opendss-csv", folder, "bad")
    assert str(exc.value) == f"transformers.csv:{line}: column 'kva' is not a number: 'lots'"
    assert _nothing_imported()


@pytest.mark.data
def test_missing_column_and_missing_file_are_named(shared_data, tmp_path):
    folder = _copy_ieee13(shared_data, tmp_path)
    rows = _rows(folder / "loads.csv")
    with (folder / "loads.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[c for c in rows[0] if c != "kw"])
        writer.writeheader()
        writer.writerows({k: v for k, v in r.items() if k != "kw"} for r in rows)
    with pytest.raises(CommandError, match=r"^loads\.csv:1: missing column 'kw'$"):
        _import("opendss-csv", folder, "bad")
    (folder / "buses.csv").unlink()
    with pytest.raises(CommandError, match=r"^buses\.csv: file not found"):
        _import("opendss-csv", folder, "bad")
    assert _nothing_imported()


@pytest.mark.data
def test_failure_while_writing_leaves_nothing(shared_data, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("grids.services.importers.topology_rebuild", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        _import("opendss-csv", shared_data / "network" / "ieee13" / "derived_csv", "i13")
    assert _nothing_imported()


@pytest.mark.data
@pytest.mark.parametrize("name", ["福田区", "福田", "Futian", "futian"])
def test_district_option_places_every_point_inside_the_district(shared_data, name):
    _import(
        "opendss-csv",
        shared_data / "network" / "ieee123" / "derived_csv",
        "i123",
        "--district",
        name,
    )
    futian = next(d for d in DISTRICTS if d.name == "福田区")
    nodes = Node.objects.filter(code__startswith="i123:")
    assert nodes.count() > 100
    assert all(_in_bbox(n.lat, n.lng, futian.bbox) for n in nodes)
    devices = Device.objects.filter(code__startswith="i123:")
    assert all(_in_bbox(d.lat, d.lng, futian.bbox) for d in devices)
    points = ServicePoint.objects.filter(account_no__startswith="i123-")
    assert all(_in_bbox(p.lat, p.lng, futian.bbox) for p in points)
    assert set(points.values_list("district__code", flat=True)) == {futian.code}
    assert all("福田区" in p.address for p in points)
    assert District.objects.get(code=futian.code).name == "福田区"
    # The placement keeps the shape: the network spans most of the box's narrower side.
    lats = [n.lat for n in nodes]
    lngs = [n.lng for n in nodes]
    span = max(max(lats) - min(lats), max(lngs) - min(lngs))
    assert span > 0.5 * min(futian.bbox[2] - futian.bbox[0], futian.bbox[3] - futian.bbox[1])


@pytest.mark.data
def test_unknown_district_is_refused(shared_data):
    with pytest.raises(CommandError, match="Atlantis"):
        _import(
            "opendss-csv",
            shared_data / "network" / "ieee13" / "derived_csv",
            "i13",
            "--district",
            "Atlantis",
        )
    assert _nothing_imported()


@pytest.mark.data
def test_two_prefixes_coexist_and_a_reused_prefix_is_refused(shared_data):
    folder = shared_data / "network" / "ieee13" / "derived_csv"
    _import("opendss-csv", folder, "first")
    _import("opendss-csv", folder, "second", "--substation-name", "南山站")
    assert Substation.objects.count() == 2
    assert Substation.objects.get(code="second").name == "南山站"
    assert ServicePoint.objects.filter(account_no__startswith="first-").count() == 15
    assert ServicePoint.objects.filter(account_no__startswith="second-").count() == 15
    before = Device.objects.count()
    with pytest.raises(CommandError, match="first"):
        _import("opendss-csv", folder, "first")
    assert Device.objects.count() == before


def test_default_prefix_comes_from_the_folder():
    assert default_prefix(Path("net/ieee8500/derived_csv")) == "ieee8500"
    assert default_prefix(Path("net/simbench_1-MVLV-urban-all-0-sw")) == "simbench-1-mv"
