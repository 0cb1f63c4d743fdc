"""The pure roll-up engine: each rule on small hand-made trees, the likelihood mode, IEEE 123."""

import csv
import random
from collections import defaultdict, deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outages.rollup import (
    DEFAULT_CONFIG,
    Mode,
    Reason,
    Report,
    RollupConfig,
    Topology,
    rollup,
)

NOW = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
RULES = replace(DEFAULT_CONFIG, mode=Mode.RULES)
LIKELIHOOD = DEFAULT_CONFIG
BOTH = pytest.mark.parametrize("config", [RULES, LIKELIHOOD], ids=["rules", "likelihood"])

# FDR (feeder breaker)
# ├── S1 (switch)
# │   ├── T1 (4 customers)
# │   ├── T2 (4 customers)
# │   └── F1 (fuse)
# │       └── T3 (2 customers)
# └── S2 (switch)
#     └── T4 (10 customers)
PARENT = {
    "FDR": None,
    "S1": "FDR",
    "T1": "S1",
    "T2": "S1",
    "F1": "S1",
    "T3": "F1",
    "S2": "FDR",
    "T4": "S2",
}
CUSTOMERS = {"T1": 4, "T2": 4, "T3": 2, "T4": 10}
SWITCHING = frozenset({"FDR", "S1", "F1", "S2"})
TRANSFORMERS = frozenset({"T1", "T2", "T3", "T4"})


def _topology(closed=()):
    return Topology(PARENT, CUSTOMERS, SWITCHING, TRANSFORMERS, frozenset(closed))


class _Calls:
    """Builds reports: ``call("T1", 0)`` is customer 0 of T1 calling ``minutes_ago``."""

    def __init__(self):
        self.reports = []

    def __call__(self, transformer, customer, minutes_ago=1):
        report = Report(
            id=f"r{len(self.reports)}",
            service_point=f"{transformer}-{customer}",
            transformer=transformer,
            at=NOW - timedelta(minutes=minutes_ago),
        )
        self.reports.append(report)
        return report.id


def _devices(result):
    return [p.device for p in result.predictions]


def test_two_reports_from_different_service_points_predict_the_transformer():
    call = _Calls()
    ids = [call("T1", 0), call("T1", 1)]
    result = rollup(call.reports, _topology(), config=RULES, now=NOW)
    assert _devices(result) == ["T1"]
    [prediction] = result.predictions
    assert prediction.reason is Reason.MIN_REPORTS
    assert prediction.report_ids == tuple(ids)
    assert (prediction.callers, prediction.customers) == (2, 4)
    assert result.single_premise == ()


def test_same_service_point_twice_is_not_enough():
    call = _Calls()
    ids = [call("T1", 0, minutes_ago=9), call("T1", 0, minutes_ago=2)]
    result = rollup(call.reports, _topology(), config=RULES, now=NOW)
    assert result.predictions == ()
    [request] = result.single_premise
    assert request.service_point == "T1-0"
    assert request.transformer == "T1"
    assert request.report_ids == tuple(ids)


def test_half_of_a_transformers_customers_predict_it():
    # Given min_reports out of reach, 2 of T1's 4 customers calling is exactly the 50 % share
    call = _Calls()
    call("T1", 0)
    call("T1", 3)
    config = replace(RULES, min_reports=3)
    result = rollup(call.reports, _topology(), config=config, now=NOW)
    assert _devices(result) == ["T1"]
    assert result.predictions[0].reason is Reason.CUSTOMER_SHARE
    # and one of 4 (25 %) is not enough
    result = rollup(call.reports[:1], _topology(), config=config, now=NOW)
    assert result.predictions == ()
    # while one caller of T3's two customers is half of them
    call = _Calls()
    call("T3", 0)
    result = rollup(call.reports, _topology(), config=RULES, now=NOW)
    assert _devices(result) == ["T3"]
    assert result.predictions[0].reason is Reason.CUSTOMER_SHARE


def test_two_predicted_transformers_under_one_switch_predict_the_switch():
    call = _Calls()
    ids = [call("T1", 0), call("T1", 1), call("T2", 0), call("T2", 2)]
    result = rollup(call.reports, _topology(), config=RULES, now=NOW)
    assert _devices(result) == ["S1"]
    assert result.predictions[0].reason is Reason.CHILDREN
    assert set(result.predictions[0].report_ids) == set(ids)
    # One predicted transformer alone does not move up
    result = rollup(call.reports[:2], _topology(), config=RULES, now=NOW)
    assert _devices(result) == ["T1"]


def test_roll_up_cascades_and_absorbs_lone_calls_below():
    # Given T1, T2 and T4 predicted, and a lone call at T3 (below S1's fuse)
    call = _Calls()
    for t in ("T1", "T2", "T4"):
        call(t, 0)
        call(t, 1)
    lone = call("T3", 0)
    config = replace(RULES, transformer_share=0.9)  # keep T3's lone call below the share
    result = rollup(call.reports, _topology(), config=config, now=NOW)
    # Then S1 (two predicted children) takes T3's call too; S2 has one predicted child only,
    # so the breaker sees one predicted child (S1) and stays put
    assert _devices(result) == ["S1", "T4"]
    assert lone in result.predictions[0].report_ids
    # With one child enough, S2 is predicted too and both climb to the breaker
    result = rollup(call.reports, _topology(), config=replace(config, rollup_children=1), now=NOW)
    assert _devices(result) == ["FDR"]
    assert len(result.predictions[0].report_ids) == 7


@BOTH
def test_time_window_excludes_old_reports(config):
    call = _Calls()
    old = call("T1", 0, minutes_ago=45)
    fresh = call("T1", 1, minutes_ago=5)
    result = rollup(call.reports, _topology(), config=config, now=NOW)
    assert result.predictions == ()
    assert result.stale_report_ids == (old,)
    assert [r.report_ids for r in result.single_premise] == [(fresh,)]
    # A longer window takes both
    result = rollup(
        call.reports, _topology(), config=replace(config, window=timedelta(hours=1)), now=NOW
    )
    assert _devices(result) == ["T1"]


@BOTH
def test_telemetry_closed_device_caps_the_prediction_below_it(config):
    call = _Calls()
    for t in ("T1", "T2"):
        for c in range(4):
            call(t, c)
    # Without telemetry the whole switch is predicted
    assert _devices(rollup(call.reports, _topology(), config=config, now=NOW)) == ["S1"]
    # With S1 reported closed and carrying load, nothing at or above it can be out
    result = rollup(call.reports, _topology(closed={"S1"}), config=config, now=NOW)
    assert _devices(result) == ["T1", "T2"]
    # A closed device below S1 (the fuse) caps S1 too: it is upstream of an energised device
    result = rollup(call.reports, _topology(closed={"F1"}), config=config, now=NOW)
    assert _devices(result) == ["T1", "T2"]
    # An energised transformer cannot be out: its calls are single-premise problems
    result = rollup(call.reports[:4], _topology(closed={"T1"}), config=config, now=NOW)
    assert result.predictions == ()
    assert len(result.single_premise) == 4


def test_with_closed_reuses_the_topology():
    topology = _topology()
    capped = topology.with_closed({"S1"})
    assert capped._index is topology._index
    call = _Calls()
    for c in range(4):
        call("T1", c)
        call("T2", c)
    assert _devices(rollup(call.reports, capped, now=NOW)) == ["T1", "T2"]
    assert _devices(rollup(call.reports, topology, now=NOW)) == ["S1"]


@BOTH
def test_reports_under_a_covered_device_are_not_used(config):
    call = _Calls()
    under = [call("T1", 0), call("T1", 1), call("T2", 0), call("T2", 1)]
    other = call("T4", 0)
    result = rollup(call.reports, _topology(), config=config, covered={"S1"}, now=NOW)
    assert result.predictions == ()
    assert dict(result.covered_reports) == dict.fromkeys(under, "S1")
    assert [r.report_ids for r in result.single_premise] == [(other,)]


@BOTH
def test_prediction_above_a_covered_device_absorbs_it(config):
    # Given an active outage at T1 and new calls from its sibling T2
    call = _Calls()
    for c in range(4):
        call("T2", c)
    result = rollup(call.reports, _topology(), config=config, covered={"T1"}, now=NOW)
    # Then the switch above both is predicted, naming the outage to widen
    assert _devices(result) == ["S1"]
    assert result.predictions[0].absorbs == ("T1",)
    # unless widening is off: then nothing is predicted above the covered device
    config = replace(config, widen_covered=False)
    result = rollup(call.reports, _topology(), config=config, covered={"T1"}, now=NOW)
    assert _devices(result) == ["T2"]
    assert result.predictions[0].absorbs == ()


@BOTH
def test_lone_report_becomes_a_single_premise_request(config):
    call = _Calls()
    lone = call("T4", 3)
    unlocated = Report("x", None, None, NOW)
    unknown = Report("y", "sp-9", "T99", NOW)
    result = rollup([*call.reports, unlocated, unknown], _topology(), config=config, now=NOW)
    assert result.predictions == ()
    assert [(r.service_point, r.transformer, r.report_ids) for r in result.single_premise] == [
        ("T4-3", "T4", (lone,)),
        (None, None, ("x",)),
        ("sp-9", "T99", ("y",)),
    ]


# A chain, as in cable networks: every section hangs below the previous one.
# S1 ─ T1 (20)
#  └─ S2 ─ T2 (20)
#      └─ S3 ─ T3 (20)
CHAIN = Topology(
    parent={"S1": None, "T1": "S1", "S2": "S1", "T2": "S2", "S3": "S2", "T3": "S3"},
    customers={"T1": 20, "T2": 20, "T3": 20},
    switching=frozenset({"S1", "S2", "S3"}),
    transformers=frozenset({"T1", "T2", "T3"}),
)


def test_likelihood_finds_the_switch_where_the_rules_stop_too_low():
    # Given S1 out and 10 % of its 60 customers calling, two from each transformer
    call = _Calls()
    for t in ("T1", "T2", "T3"):
        call(t, 0)
        call(t, 7)
    # The rules predict the three transformers: no device on a chain has two predicted children
    rules = rollup(call.reports, CHAIN, config=RULES, now=NOW)
    assert _devices(rules) == ["T1", "T2", "T3"]
    # The likelihood mode predicts the switch that explains all of them
    result = rollup(call.reports, CHAIN, now=NOW)
    assert _devices(result) == ["S1"]
    [prediction] = result.predictions
    assert prediction.reason is Reason.LIKELIHOOD
    assert len(prediction.report_ids) == 6
    assert prediction.score > 0
    assert 0.5 < prediction.confidence <= 1


def test_likelihood_keeps_the_lowest_device_that_explains_the_calls():
    # Calls only from the two lowest sections: S2, not S1 (T1's 20 customers stayed silent)
    call = _Calls()
    for t in ("T2", "T3"):
        for c in (0, 5, 9):
            call(t, c)
    assert _devices(rollup(call.reports, CHAIN, now=NOW)) == ["S2"]


def test_likelihood_separates_simultaneous_faults_and_leaves_far_noise_alone():
    # Given a big topology: two feeders of 5 sections x 3 transformers x 30 customers
    parent, customers = {}, {}
    for f in ("A", "B"):
        parent[f] = None
        up = f
        for s in range(5):
            sw = f"{f}{s}"
            parent[sw] = up
            for t in range(3):
                parent[f"{sw}t{t}"] = sw
                customers[f"{sw}t{t}"] = 30
            up = sw
    topology = Topology(
        parent,
        customers,
        frozenset(d for d in parent if d not in customers),
        frozenset(customers),
    )
    call = _Calls()
    rng = random.Random(7)
    # Faults at A3 (sections 3-4 of feeder A) and B1 (sections 1-4 of feeder B), 10 % calling
    for fault_sections in (("A3", "A4"), ("B1", "B2", "B3", "B4")):
        for sw in fault_sections:
            for t in range(3):
                for c in rng.sample(range(30), 3):
                    call(f"{sw}t{t}", c)
    # plus one unrelated call on feeder A, far from the fault
    noise = call("A0t1", 4)
    result = rollup(call.reports, topology, now=NOW)
    assert sorted(_devices(result)) == ["A3", "B1"]
    assert [r.report_ids for r in result.single_premise] == [(noise,)]
    # Widening either fault to its feeder breaker would leave far too many customers silent
    assert all(p.confidence > 0.5 for p in result.predictions)


def test_likelihood_leaves_a_stray_call_outside_a_near_total_outage():
    # Given a breaker feeding a switch with 1000 customers and a transformer of 60 outside it
    parent = {"FDR": None, "S": "FDR", "TX": "FDR"}
    customers = {"TX": 60}
    for t in range(50):
        parent[f"T{t}"] = "S"
        customers[f"T{t}"] = 20
    topology = Topology(parent, customers, frozenset({"FDR", "S"}), frozenset(customers))
    # When S is out and 10 % of its customers call, plus one unrelated call from TX
    call = _Calls()
    for t in range(50):
        call(f"T{t}", t % 20)
        call(f"T{t}", (t + 7) % 20)
    stray = call("TX", 0)
    # Then S explains the outage calls and TX's call stays apart: 59 silent customers of TX
    # would not fit an outage where one in ten calls
    result = rollup(call.reports, topology, now=NOW)
    assert _devices(result) == ["S"]
    assert result.predictions[0].confidence > 0.5
    assert [r.report_ids for r in result.single_premise] == [(stray,)]
    # while pricing no event noise (mistakes and premise faults only) swallows it into FDR
    result = rollup(call.reports, topology, config=replace(LIKELIHOOD, noise_share=0), now=NOW)
    assert _devices(result) == ["FDR"]


def test_likelihood_takes_the_last_supplied_callers_into_a_near_total_outage():
    # Given the same breaker, but only 2 customers outside S, and both of them call
    parent = {"FDR": None, "S": "FDR", "TX": "FDR"}
    customers = {"TX": 2}
    for t in range(50):
        parent[f"T{t}"] = "S"
        customers[f"T{t}"] = 20
    topology = Topology(parent, customers, frozenset({"FDR", "S"}), frozenset(customers))
    call = _Calls()
    for t in range(50):
        for c in range(10):
            call(f"T{t}", c)
    call("TX", 0)
    call("TX", 1)
    # Then the calls fit one outage at the breaker: noise would have to come from the very
    # last customers with supply, and both of them
    for config in (LIKELIHOOD, RollupConfig.storm()):
        result = rollup(call.reports, topology, config=config, now=NOW)
        assert _devices(result) == ["FDR"]
        assert result.single_premise == ()


def test_result_does_not_depend_on_report_order():
    call = _Calls()
    for t in ("T1", "T2", "T3", "T4"):
        for c in range(2):
            call(t, c)
    expected = rollup(call.reports, _topology(), now=NOW)
    shuffled = call.reports[:]
    random.Random(3).shuffle(shuffled)
    again = rollup(shuffled, _topology(), now=NOW)
    assert _devices(again) == _devices(expected)
    assert [set(p.report_ids) for p in again.predictions] == [
        set(p.report_ids) for p in expected.predictions
    ]


def test_storm_preset_and_config_validation():
    storm = RollupConfig.storm()
    assert storm.window > DEFAULT_CONFIG.window
    assert storm.call_rate < DEFAULT_CONFIG.call_rate
    assert RollupConfig.storm(window=timedelta(minutes=90)).window == timedelta(minutes=90)
    assert RollupConfig(mode="rules").mode is Mode.RULES
    with pytest.raises(ValueError, match="call_rate"):
        RollupConfig(call_rate=0)
    with pytest.raises(ValueError, match="background_rate"):
        RollupConfig(background_rate=0.5)


def test_topology_rejects_cycles_and_unknown_devices():
    with pytest.raises(ValueError, match="cycle"):
        Topology({"a": "b", "b": "a"}, {}, frozenset(), frozenset())
    with pytest.raises(ValueError, match="unknown"):
        Topology({"a": "zz"}, {}, frozenset(), frozenset())
    with pytest.raises(ValueError, match="missing"):
        Topology({"a": None}, {"t": 3}, frozenset(), frozenset({"t"}))
    assert _topology().customers_below("S1") == 10


# --- IEEE 123 ------------------------------------------------------------------------------


def _ieee123(folder):
    """Switches and load-bus transformers of IEEE 123 (lines and regulators are conductor).

    Returns the engine's topology and, for each device, the set of customers it cuts off,
    computed by a breadth-first search of its own (not by the engine).
    """

    def bus(name):
        return name.split(".", 1)[0].lower()

    def rows(name):
        with (folder / name).open(newline="") as f:
            return list(csv.DictReader(f))

    adjacency = defaultdict(list)
    for r in rows("lines.csv"):
        if r["enabled"] == "1":
            kind = "switch" if r["is_switch"] == "1" else None
            adjacency[bus(r["bus1"])].append((bus(r["bus2"]), r["line"], kind))
            adjacency[bus(r["bus2"])].append((bus(r["bus1"]), r["line"], kind))
    for r in rows("transformers.csv"):
        a, b = (bus(x) for x in r["buses"].split()[:2])
        adjacency[a].append((b, r["transformer"], None))
        adjacency[b].append((a, r["transformer"], None))
    loads = defaultdict(int)
    for r in rows("loads.csv"):
        loads[bus(r["bus"])] += 1

    parent, device_at, order = {}, {"150": None}, []
    queue = deque(["150"])
    while queue:
        u = queue.popleft()
        order.append(u)
        for v, name, kind in adjacency[u]:
            if v in device_at:
                continue
            if kind == "switch":
                parent[name] = device_at[u]
                device_at[v] = name
            else:
                device_at[v] = device_at[u]
            queue.append(v)
    customers, owner = {}, {}
    for b, count in loads.items():
        parent[f"T:{b}"] = device_at[b]
        customers[f"T:{b}"] = count
        for n in range(count):
            owner[(b, n)] = f"T:{b}"
    cut_off = defaultdict(set)
    for sp, t in owner.items():
        d = t
        while d is not None:
            cut_off[d].add(sp)
            d = parent[d]
    topology = Topology(
        parent,
        customers,
        frozenset(d for d in parent if d not in customers),
        frozenset(customers),
    )
    return topology, cut_off


@pytest.mark.data
@BOTH
def test_ieee123_switch_fault_with_every_customer_calling_is_found(shared_data, config):
    topology, cut_off = _ieee123(shared_data / "network" / "ieee123" / "derived_csv")
    switches = sorted(d for d in topology.switching if cut_off[d])
    assert len(switches) == 5  # sw6 feeds the unloaded xfm1, sw7 and sw8 dead ends
    for switch in switches:
        reports = [
            Report(n, sp, f"T:{sp[0]}", NOW - timedelta(minutes=n % 20))
            for n, sp in enumerate(sorted(cut_off[switch]))
        ]
        result = rollup(reports, topology, config=config, now=NOW)
        assert len(result.predictions) == 1, switch
        predicted = result.predictions[0].device
        assert cut_off[predicted] == cut_off[switch], (switch, predicted)
        assert result.single_premise == ()
