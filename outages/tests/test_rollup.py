"""The pure roll-up engine: each rule on small hand-made trees, the likelihood mode, IEEE 123."""

import csv
import random
from collections import defaultdict, deque
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from outages.rollup import (
    DEFAULT_CONFIG,
    FaultMix,
    Mode,
    NaiveTimeError,
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
    """Switches and load-bus transformers of IEEE 123 (lines and regulators are conductor)."""
    return _opendss(folder, "150", load_bus_transformers=True)


def _opendss(folder, root, *, load_bus_transformers=False):
    """An OpenDSS feeder's switches and service transformers, fed at bus ``root``.

    Lines and regulators are conductor. With ``load_bus_transformers`` each load bus gets a
    pseudo-transformer (IEEE 123 has none); otherwise a load hangs on the device that feeds
    its bus (IEEE 8500: its own service transformer). Returns the engine's topology and, for
    each device, the set of customers it cuts off, computed by a breadth-first search of its
    own (not by the engine).
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
        if r["enabled"] != "1":
            continue
        a, *others = (bus(x) for x in r["buses"].split())
        kind = "transformer" if r["xfmrcode"].strip() and not load_bus_transformers else None
        for b in others:
            if b != a:
                adjacency[a].append((b, r["transformer"], kind))
                adjacency[b].append((a, r["transformer"], kind))
    loads = defaultdict(int)
    for r in rows("loads.csv"):
        if r["enabled"] == "1":
            loads[bus(r["bus"])] += 1

    parent, kinds, device_at = {}, {}, {root: None}
    queue = deque([root])
    while queue:
        u = queue.popleft()
        for v, name, kind in adjacency[u]:
            if v in device_at:
                continue
            if kind is not None:
                parent[name] = device_at[u]
                kinds[name] = kind
                device_at[v] = name
            else:
                device_at[v] = device_at[u]
            queue.append(v)
    customers, owner = defaultdict(int), {}
    for b, count in loads.items():
        t = device_at[b]
        if load_bus_transformers or t is None or kinds[t] != "transformer":
            t = f"T:{b}"
            parent[t] = device_at[b]
            kinds[t] = "transformer"
        customers[t] += count
        for n in range(count):
            owner[(b, n)] = t
    cut_off = defaultdict(set)
    for sp, t in owner.items():
        d = t
        while d is not None:
            cut_off[d].add(sp)
            d = parent[d]
    topology = Topology(
        parent,
        dict(customers),
        frozenset(d for d, k in kinds.items() if k == "switch"),
        frozenset(d for d, k in kinds.items() if k == "transformer"),
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


@pytest.mark.data
@pytest.mark.parametrize("share", [0.3, 0.6, 1.0])
def test_ieee123_switch_fault_at_any_share_of_callers_is_found(shared_data, share):
    topology, cut_off = _ieee123(shared_data / "network" / "ieee123" / "derived_csv")
    for switch in sorted(d for d in topology.switching if cut_off[d]):
        _assert_switch_found(topology, cut_off, switch, share, LIKELIHOOD)


def _calls_of(cut_off, device, share, seed):
    customers = sorted(cut_off[device])
    rng = random.Random(f"{device}/{share}/{seed}")
    chosen = rng.sample(customers, max(1, round(share * len(customers))))
    return [
        Report(n, sp, _transformer_of(cut_off, sp), NOW - timedelta(minutes=n % 20))
        for n, sp in enumerate(chosen)
    ]


def _transformer_of(cut_off, sp):
    # The smallest device that cuts the customer off is the one it hangs on.
    return min((d for d, sps in cut_off.items() if sp in sps), key=lambda d: len(cut_off[d]))


def _assert_switch_found(topology, cut_off, switch, share, config, seed=0):
    reports = _calls_of(cut_off, switch, share, seed)
    result = rollup(reports, topology, config=config, now=NOW)
    _assert_one_fitting_prediction(result, cut_off, switch, reports)


def _lowest_above(cut_off, reports):
    """The smallest device cutting off every caller: calls alone cannot place a fault lower."""
    callers = {r.service_point for r in reports}
    return min((d for d, sps in cut_off.items() if callers <= sps), key=lambda d: len(cut_off[d]))


def _assert_one_fitting_prediction(result, cut_off, device, reports):
    """One prediction holding every call, at ``device`` or, when no caller sits outside a
    smaller device, at that one (its silent remainder is no evidence either way)."""
    found = [(p.device, p.callers) for p in result.predictions]
    assert len(result.predictions) == 1, (device, found)
    [prediction] = result.predictions
    assert prediction.callers == len(reports), (device, found)
    assert cut_off[prediction.device] in (
        cut_off[device],
        cut_off[_lowest_above(cut_off, reports)],
    ), (device, found)
    assert result.single_premise == ()


@pytest.fixture(scope="module")
def ieee8500(request):
    from conftest import SHARED_DATA

    folder = SHARED_DATA / "network" / "ieee8500" / "derived_csv"
    if not folder.is_dir():
        pytest.skip("../shared/data is not present")
    topology, cut_off = _opendss(folder, "hvmv_sub_hsb")
    # Every customer's transformer, once: the look-up above is slow on 1,177 customers.
    owner = {}
    for t in topology.transformers:
        for sp in cut_off[t]:
            owner[sp] = t
    return topology, cut_off, owner


def _storm_reports(cut_off, owner, device, share, seed):
    customers = sorted(cut_off[device])
    rng = random.Random(f"{device}/{share}/{seed}")
    chosen = rng.sample(customers, max(1, round(share * len(customers))))
    return [
        Report(n, sp, owner[sp], NOW - timedelta(seconds=rng.randrange(25 * 60)))
        for n, sp in enumerate(chosen)
    ]


@pytest.mark.data
@pytest.mark.parametrize(
    ("device", "share"),
    [("a8735_48332_sw", 1.0), ("a8735_48332_sw", 0.6), ("l9407_48332_sw", 0.3)],
)
@pytest.mark.parametrize(
    "config", [LIKELIHOOD, RollupConfig.storm(), RULES], ids=["likelihood", "storm", "rules"]
)
def test_ieee8500_storm_predicts_the_device_whose_outage_the_calls_fit(
    ieee8500, device, share, config
):
    # Given the whole feeder (or most of it) out and a large share of its customers calling
    topology, cut_off, owner = ieee8500
    assert len(cut_off["a8735_48332_sw"]) == 1177
    for seed in range(5):
        reports = _storm_reports(cut_off, owner, device, share, seed)
        result = rollup(reports, topology, config=config, now=NOW)
        # Then that device is the one prediction: not the switch below it plus the callers of
        # the last supplied customers as outages of their own transformers
        _assert_one_fitting_prediction(result, cut_off, device, reports)
        if share == 1.0:
            assert result.predictions[0].device == device


@pytest.mark.data
@pytest.mark.parametrize("share", [0.3, 0.6, 1.0])
def test_ieee8500_every_switch_fault_is_found_whatever_the_share_calling(ieee8500, share):
    topology, cut_off, owner = ieee8500
    switches = sorted(d for d in topology.switching if len(cut_off[d]) >= 20)
    assert len(switches) >= 20
    for switch in switches:
        reports = _storm_reports(cut_off, owner, switch, share, 0)
        for config in (LIKELIHOOD, RollupConfig.storm()):
            result = rollup(reports, topology, config=config, now=NOW)
            _assert_one_fitting_prediction(result, cut_off, switch, reports)


# --- time at the engine's edge -------------------------------------------------------------


def test_naive_times_are_refused_with_a_named_error():
    call = _Calls()
    call("T1", 0)
    naive = Report("n", "T1-1", "T1", datetime(2025, 7, 1, 11, 58))  # noqa: DTZ001
    with pytest.raises(NaiveTimeError, match="time zone"):
        rollup([*call.reports, naive], _topology(), now=NOW)
    with pytest.raises(NaiveTimeError, match="now"):
        rollup(call.reports, _topology(), now=datetime(2025, 7, 1, 12))  # noqa: DTZ001
    # It is a ValueError, so a caller that validates input catches it as such
    assert issubclass(NaiveTimeError, ValueError)


@BOTH
def test_future_reports_are_ignored_and_counted(config):
    call = _Calls()
    ids = [call("T1", 0), call("T1", 1)]
    late = [call("T1", 2, minutes_ago=-5), call("T2", 0, minutes_ago=-1)]
    result = rollup(call.reports, _topology(), config=config, now=NOW)
    assert _devices(result) == ["T1"]
    assert set(result.predictions[0].report_ids) == set(ids)
    assert result.future_report_ids == tuple(late)
    assert result.single_premise == ()


@BOTH
def test_the_same_report_twice_counts_once(config):
    call = _Calls()
    call("T4", 0)
    twice = [*call.reports, *call.reports, call.reports[0]]
    result = rollup(twice, _topology(), config=config, now=NOW)
    assert [r.report_ids for r in result.single_premise] == [(call.reports[0].id,)]
    assert result.duplicate_reports == 2
    # Two distinct callers given twice each still predict their transformer once
    call("T4", 1)
    result = rollup(call.reports * 2, _topology(), config=config, now=NOW)
    [prediction] = result.predictions
    assert prediction.report_ids == tuple(r.id for r in call.reports)
    assert result.duplicate_reports == 2


def test_a_late_call_does_not_push_the_faults_calls_out_of_the_window():
    # Given S1's customers calling in the first quarter hour and one more of them 40 minutes
    # after the last (exponential delays have a long tail)
    call = _Calls()
    for n, (t, c) in enumerate([("T1", 0), ("T1", 1), ("T2", 0), ("T2", 3), ("T3", 1)]):
        call(t, c, minutes_ago=55 - 3 * n)
    late = call("T1", 2, minutes_ago=1)
    # When the engine chooses the window itself (no `now`)
    result = rollup(call.reports, _topology())
    # Then the window ends with the cluster of calls, not with the latest call
    assert _devices(result) == ["S1"]
    assert len(result.predictions[0].report_ids) == 6
    assert result.stale_report_ids == ()
    # while a run that states its time keeps a trailing window: the cluster ended 43 minutes
    # before it, so its calls are stale (the service has handled them long ago)
    result = rollup(call.reports, _topology(), now=NOW)
    assert result.predictions == ()
    assert len(result.stale_report_ids) == 5
    assert [r.report_ids for r in result.single_premise] == [(late,)]


def test_a_cluster_reaching_into_the_window_is_used_whole():
    # Calls 50 to 20 minutes ago, 10 minutes apart: one cluster whose latest call is fresh
    call = _Calls()
    for n in range(4):
        call("T1", n, minutes_ago=50 - 10 * n)
    result = rollup(call.reports, _topology(), now=NOW)
    assert _devices(result) == ["T1"]
    assert len(result.predictions[0].report_ids) == 4
    # but nothing older than two windows, however the calls chain
    old = call("T2", 0, minutes_ago=65)
    result = rollup(call.reports, _topology(), now=NOW)
    assert result.stale_report_ids == (old,)


# --- single calls and the fault mix --------------------------------------------------------


def test_a_lone_call_follows_the_fault_mix():
    # Given one call from T1 (4 customers) and nothing else
    call = _Calls()
    lone = call("T1", 3)
    # Under a mix without premise faults a call means a device is out: T1
    devices_only = replace(LIKELIHOOD, fault_mix=FaultMix.devices_only(), rules_floor=False)
    result = rollup(call.reports, _topology(), config=devices_only, now=NOW)
    assert _devices(result) == ["T1"]
    assert result.predictions[0].report_ids == (lone,)
    # Under a mix with half premise faults the premise is likelier than T1 with 3 silent
    half = replace(devices_only, fault_mix=FaultMix.half_premise())
    result = rollup(call.reports, _topology(), config=half, now=NOW)
    assert result.predictions == ()
    assert [r.report_ids for r in result.single_premise] == [(lone,)]


def test_a_lone_call_on_a_small_device_predicts_it_even_with_premise_faults():
    # Given two transformers under a switch: one of 2 customers, one of 40
    topology = Topology(
        {"S": None, "small": "S", "big": "S"},
        {"small": 2, "big": 40},
        frozenset({"S"}),
        frozenset({"small", "big"}),
    )
    half = replace(LIKELIHOOD, fault_mix=FaultMix.half_premise(), rules_floor=False)
    for transformer, predicted in (("small", ["small"]), ("big", [])):
        call = _Calls()
        call(transformer, 0)
        result = rollup(call.reports, topology, config=half, now=NOW)
        assert _devices(result) == predicted, transformer


def test_the_fault_mix_weighs_device_kinds():
    # Given a fuse feeding a transformer of 5 customers and one of 1, and one call under the
    # first: the fuse or that transformer, as the mix says which fails more often
    topology = Topology(
        {"F": None, "T": "F", "t": "F"},
        {"T": 5, "t": 1},
        frozenset({"F"}),
        frozenset({"T", "t"}),
        kinds={"F": "lateral"},
        sections={"F": 0},
    )
    call = _Calls()
    call("T", 0)
    fuses = replace(LIKELIHOOD, fault_mix=FaultMix(premise=0, transformer=0.02, lateral=0.98))
    transformers = replace(LIKELIHOOD, fault_mix=FaultMix(premise=0, transformer=0.9, lateral=0.1))
    assert _devices(rollup(call.reports, topology, config=fuses, now=NOW)) == ["F"]
    assert _devices(rollup(call.reports, topology, config=transformers, now=NOW)) == ["T"]
    with pytest.raises(ValueError, match="fault mix"):
        FaultMix(premise=-1)


def test_a_device_in_front_of_another_with_the_same_customers_names_the_lower_one():
    # Given a fuse in front of a single transformer: whichever failed, the same customers
    # are out, and the transformer names the outage whatever the mix
    topology = Topology(
        {"F": None, "T": "F"},
        {"T": 5},
        frozenset({"F"}),
        frozenset({"T"}),
        kinds={"F": "lateral"},
    )
    call = _Calls()
    call("T", 0)
    call("T", 3)
    for mix in (FaultMix(), FaultMix(transformer=0.01, lateral=0.99), FaultMix.devices_only()):
        result = rollup(call.reports, topology, config=replace(LIKELIHOOD, fault_mix=mix), now=NOW)
        assert _devices(result) == ["T"]


@pytest.fixture(scope="module")
def reference_networks():
    """The three reference feeders as the benchmark builds them (customers on their own
    buses, fuses, line sections), with a depth-first layout to compare customer sets."""
    import importlib.util
    import sys
    from pathlib import Path

    from conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    bench = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(bench))
    try:
        spec = importlib.util.spec_from_file_location(
            "rollup_accuracy", bench / "rollup_accuracy.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(bench))
    return [module.Feeder(n, module.current_engine) for n in module.load_networks(SHARED_DATA)]


@pytest.mark.data
def test_every_reference_feeder_device_is_found_when_its_calls_fit_it(reference_networks):
    # Given each device serving 20 customers or more (a sample of SimBench's 751), and 30,
    # 60 or 100 % of its customers calling
    for feeder in reference_networks:
        layout = feeder.layout
        devices = sorted(d for d in feeder.network.kind if layout.hi[d] - layout.lo[d] >= 20)
        if len(devices) > 80:
            devices = random.Random(feeder.network.name).sample(devices, 80)
        for device in devices:
            lo, hi = layout.span(device)
            for share in (0.3, 0.6, 1.0):
                rng = random.Random(f"{device}/{share}")
                own = rng.sample(range(lo, hi), round(share * (hi - lo)))
                reports = [
                    Report(n, c, layout.anchor[c], NOW - timedelta(seconds=rng.randrange(1500)))
                    for n, c in enumerate(own)
                ]
                result = rollup(reports, feeder.real, config=LIKELIHOOD, now=NOW)
                # Then one prediction holds every call, at a device with the faulted device's
                # customers (or, when none of the extra ones called, the smallest above them)
                found = [(p.device, p.callers) for p in result.predictions]
                assert len(found) == 1, (feeder.network.name, device, share, found)
                predicted = layout.span(result.predictions[0].device)
                fits = ((lo, hi), layout.span(layout.lowest_device_above(own)))
                assert predicted in fits, (feeder.network.name, device, share, found)
                assert result.single_premise == ()
