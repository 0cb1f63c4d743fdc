"""The pure dispatch decision: filters, scoring, batch assignment, re-dispatch, pre-emption,
grab pool. No database."""

import dataclasses
import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from workorders import dispatching as d
from workorders.dispatching import CrewState, DispatchPolicy, OrderRequest

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
# Futian, Shenzhen. 0.01 degree of latitude is about 1.11 km.
LAT, LNG = 22.54, 114.05
# Travel, and nothing else, decides: for the optimality checks against brute force and greedy.
TRAVEL_ONLY = DispatchPolicy(
    workload_min_per_order=0.0, territory_bonus_min=0.0, sla_late_weight=0.0
)


def crew(cid, dlat=0.0, dlng=0.0, **kw):
    fields = {
        "id": cid,
        "lat": LAT + dlat,
        "lng": LNG + dlng,
        "grid_id": None,
        "on_duty": True,
        "skills": frozenset({"lv"}),
        "capacity": 1,
        "open_orders": 0,
    }
    fields.update(kw)
    return CrewState(**fields)


def order(oid, dlat=0.0, dlng=0.0, **kw):
    fields = {
        "id": oid,
        "lat": LAT + dlat,
        "lng": LNG + dlng,
        "grid_id": None,
        "area_class": d.URBAN,
        "skill_needed": None,
        "urgent": False,
        "sla_deadline_at": None,
        "created_at": NOW - timedelta(minutes=oid),
    }
    fields.update(kw)
    return OrderRequest(**fields)


def ids(ranking):
    return [c.crew_id for c in ranking.candidates]


def pairs(result):
    return {a.order_id: a.crew_id for a in result.assignments}


def travel_total(result):
    return sum(a.candidate.travel_min for a in result.assignments)


# --- geometry -------------------------------------------------------------------------------


def test_haversine_and_travel_time_by_area_class():
    # Shenzhen to Guangzhou is about 104 km as the crow flies.
    km = float(d.haversine_km(22.5431, 114.0579, 23.1291, 113.2644))
    assert 100 < km < 108
    assert d.travel_minutes(10.0, d.URBAN) == pytest.approx(10 * 1.3 / 25 * 60)
    assert d.travel_minutes(10.0, d.REMOTE) == pytest.approx(10 * 1.3 / 50 * 60)
    # Vectorised: a 2 x 3 matrix by broadcasting.
    m = d.haversine_km([[22.5], [22.6]], [[114.0], [114.1]], [[22.5, 22.6, 22.7]], [[114.0] * 3])
    assert m.shape == (2, 3)
    assert m[0, 0] == pytest.approx(0.0)


def test_mixed_area_trip_drives_half_the_road_at_each_speed():
    o = order(1, dlat=0.1, area_class=d.REMOTE)
    c = crew(1, area_class=d.URBAN)
    cand = d.rank_crews(o, [c], now=NOW).best
    expected = cand.distance_km * 1.3 * 60 * 0.5 * (1 / 50 + 1 / 25)
    assert cand.travel_min == pytest.approx(expected)


# --- hard filters ---------------------------------------------------------------------------


def test_every_hard_filter_excludes_with_its_reason():
    o = order(1, skill_needed="mv")
    crews = [
        crew(1, skills=frozenset({"mv"})),
        crew(2, skills=frozenset({"mv"}), on_duty=False),
        crew(3, skills=frozenset({"lv"})),
        crew(4, skills=frozenset({"mv"}), capacity=2, open_orders=2),
        crew(5, skills=frozenset({"mv"}), lat=None, lng=None),
        crew(6, skills=frozenset(), on_duty=False, open_orders=1),
    ]
    ranking = d.rank_crews(o, crews, now=NOW)
    assert ids(ranking) == [1]
    reasons = {f.crew_id: f.reasons for f in ranking.filtered}
    assert reasons == {
        2: (d.OFF_DUTY,),
        3: (d.MISSING_SKILL,),
        4: (d.NO_CAPACITY,),
        5: (d.NO_POSITION,),
        6: (d.OFF_DUTY, d.MISSING_SKILL, d.NO_CAPACITY),
    }
    assert set(d.REASON_LABELS) >= {r for rs in reasons.values() for r in rs}


def test_no_skill_needed_accepts_any_crew_and_no_candidate_gives_none():
    o = order(1)
    ranking = d.rank_crews(o, [crew(1, skills=frozenset())], now=NOW)
    assert ids(ranking) == [1]
    assert d.rank_crews(o, [crew(2, on_duty=False)], now=NOW).best is None


# --- scoring --------------------------------------------------------------------------------


def test_nearest_wins_all_else_equal_and_components_add_up():
    o = order(1)
    crews = [crew(1, dlat=0.05), crew(2, dlat=0.01), crew(3, dlng=-0.03)]
    ranking = d.rank_crews(o, crews, now=NOW)
    assert ids(ranking) == [2, 3, 1]
    for cand in ranking.candidates:
        assert cand.cost == pytest.approx(sum(cand.components.values()))
        assert cand.components["travel"] == pytest.approx(
            d.travel_minutes(cand.distance_km, d.URBAN)
        )
    assert ranking.as_dict()["candidates"][0]["crew_id"] == 2


def test_workload_costs_twenty_minutes_per_open_order():
    o = order(1)
    # Crew 1 is about 3.1 minutes nearer (1 km at 25 km/h x 1.3) but has one open order.
    near_busy = crew(1, dlat=0.01, capacity=3, open_orders=1)
    far_free = crew(2, dlat=0.02, capacity=3)
    ranking = d.rank_crews(o, [near_busy, far_free], now=NOW)
    assert ids(ranking) == [2, 1]
    assert ranking.candidates[1].components["workload"] == pytest.approx(20.0)
    # Much nearer (about 20 minutes at 0.1 degree further for the free crew), the busy one wins.
    far_free = crew(2, dlat=0.12, capacity=3)
    assert ids(d.rank_crews(o, [near_busy, far_free], now=NOW)) == [1, 2]


def test_own_grid_wins_unless_a_foreign_crew_is_more_than_the_bonus_closer():
    o = order(1, grid_id=7)
    own = crew(1, dlat=0.03, grid_id=7)  # about 9.4 min
    foreign = crew(2, dlat=0.01, grid_id=8)  # about 3.1 min: 6.2 min nearer < 10
    ranking = d.rank_crews(o, [own, foreign], now=NOW)
    assert ids(ranking) == [1, 2]
    assert ranking.candidates[0].components["territory"] == -10.0
    assert ranking.candidates[1].components["territory"] == 0.0
    own = crew(1, dlat=0.06, grid_id=7)  # about 18.8 min: 15.6 nearer > 10
    assert ids(d.rank_crews(o, [own, foreign], now=NOW)) == [2, 1]


def test_crews_that_would_miss_the_deadline_pay_the_lateness():
    # Deadline in 5 minutes: crew 2 (about 9.4 min) would be 4.4 minutes late.
    o = order(1, sla_deadline_at=NOW + timedelta(minutes=5))
    ranking = d.rank_crews(o, [crew(1, dlat=0.01), crew(2, dlat=0.03)], now=NOW)
    late = {c.crew_id: c.components["sla"] for c in ranking.candidates}
    assert late[1] == 0.0
    travel = ranking.candidates[1].travel_min
    assert late[2] == pytest.approx(2 * (travel - 5))


# --- batch assignment -----------------------------------------------------------------------


def test_batch_beats_greedy_on_the_classic_trap():
    # Orders 1 and 2; crew A sits on order 1 but is a little nearer order 2, crew B is far from
    # order 2. Greedy gives A to order 2 first; the batch keeps A for order 1.
    orders = [order(2, dlat=0.005), order(1)]
    crews = [crew(1, dlat=0.004), crew(2, dlat=0.06)]
    greedy = d.assign_greedy(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    batch = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    assert pairs(greedy) == {2: 1, 1: 2}
    assert pairs(batch) == {1: 1, 2: 2}
    assert travel_total(batch) < travel_total(greedy)


def _random_case(rng, n_orders, n_crews, *, capacity_max=1, infeasible=0.2):
    skills = ["lv", "mv", "cable"]
    orders = [
        order(
            i,
            dlat=rng.uniform(-0.2, 0.2),
            dlng=rng.uniform(-0.2, 0.2),
            skill_needed=rng.choice(skills) if rng.random() < infeasible else None,
            area_class=rng.choice([d.URBAN, d.URBAN, d.RURAL, d.REMOTE]),
        )
        for i in range(1, n_orders + 1)
    ]
    crews = [
        crew(
            100 + j,
            dlat=rng.uniform(-0.2, 0.2),
            dlng=rng.uniform(-0.2, 0.2),
            skills=frozenset(rng.sample(skills, rng.randint(1, 3))),
            on_duty=rng.random() > infeasible / 2,
            capacity=rng.randint(1, capacity_max),
        )
        for j in range(n_crews)
    ]
    return orders, crews


def _check_feasible_and_within_capacity(orders, crews, result):
    by_order = {o.id: o for o in orders}
    by_crew = {c.id: c for c in crews}
    load = {}
    for a in result.assignments:
        ranking = d.rank_crews(by_order[a.order_id], [by_crew[a.crew_id]], now=NOW)
        assert ranking.best is not None, f"infeasible pair {a.order_id} -> {a.crew_id}"
        load[a.crew_id] = load.get(a.crew_id, 0) + 1
    for cid, k in load.items():
        assert k <= by_crew[cid].spare
    assigned = {a.order_id for a in result.assignments}
    left = {u.order_id for u in result.unassigned}
    assert len(assigned) == len(result.assignments)
    assert assigned | left == set(by_order)
    assert not assigned & left
    return load


def _reference_greedy_nearest(orders, crews):
    """Independent greedy nearest-first: each order in turn takes its nearest free crew."""
    spare = {c.id: c.spare for c in crews}
    total, count = 0.0, 0
    for o in orders:
        free = [
            c for c in crews if spare[c.id] > 0 and d.rank_crews(o, [c], now=NOW).best is not None
        ]
        if not free:
            continue
        best = min(free, key=lambda c: d.rank_crews(o, [c], now=NOW).best.travel_min)
        spare[best.id] -= 1
        total += d.rank_crews(o, [best], now=NOW).best.travel_min
        count += 1
    return total, count


@pytest.mark.parametrize("seed", range(12))
def test_batch_is_feasible_within_capacity_and_no_worse_than_greedy(seed):
    rng = random.Random(seed)
    orders, crews = _random_case(
        rng, rng.randint(8, 25), rng.randint(5, 20), capacity_max=3, infeasible=0.3
    )
    batch = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    _check_feasible_and_within_capacity(orders, crews, batch)
    greedy_travel, greedy_count = _reference_greedy_nearest(orders, crews)
    # The batch serves as many orders as can be served, hence at least greedy's count ...
    assert len(batch.assignments) >= greedy_count
    # ... and, serving as many, drives no more.
    if len(batch.assignments) == greedy_count:
        assert travel_total(batch) <= greedy_travel + 1e-9


def test_batch_respects_capacity_when_all_orders_pile_on_one_crew():
    orders = [order(i, dlat=0.001 * i) for i in range(1, 7)]
    crews = [crew(1, capacity=3, open_orders=1), crew(2, dlat=0.3, capacity=1)]
    result = d.assign_batch(orders, crews, now=NOW)
    load = _check_feasible_and_within_capacity(orders, crews, result)
    assert load == {1: 2, 2: 1}
    assert len(result.unassigned) == 3
    assert {u.reason for u in result.unassigned} == {d.OUTCOMPETED}
    after = {c.id: c.open_orders for c in result.crews}
    assert after == {1: 3, 2: 1}
    # The second order for crew 1 in the batch is queued behind the first.
    workloads = sorted(a.candidate.components["workload"] for a in result.assignments)
    assert workloads == [0.0, 20.0, 40.0]


def test_second_order_of_a_crew_in_a_batch_pays_the_queue():
    # Two orders right on top of crew 1 (capacity 2); crew 2 is about 3 minutes away. Queuing
    # the second order behind the first costs 20 minutes, so crew 2 takes it.
    orders = [order(1), order(2, dlat=0.0001)]
    crews = [crew(1, capacity=2), crew(2, dlat=0.01)]
    result = d.assign_batch(orders, crews, now=NOW)
    assert sorted(pairs(result).values()) == [1, 2]
    # Without the queue penalty crew 1 takes both.
    free_queue = DispatchPolicy(workload_min_per_order=0.0)
    result = d.assign_batch(orders, crews, now=NOW, policy=free_queue)
    assert sorted(pairs(result).values()) == [1, 1]


def test_batch_serves_as_many_orders_as_possible_before_minimising_travel():
    # Order 1 sits on crew 1; order 2 needs "mv", which only crew 1 has. Serving both sends
    # both crews about 35 minutes, serving only order 1 would cost nothing: the batch serves both.
    orders = [order(1), order(2, dlat=0.1, skill_needed="mv")]
    crews = [crew(1, skills=frozenset({"lv", "mv"})), crew(2, dlat=-0.1)]
    result = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    assert pairs(result) == {1: 2, 2: 1}
    assert result.unassigned == ()


def test_batch_never_assigns_an_infeasible_pair_even_when_it_is_the_only_one():
    # Two orders need "mv" that no crew has, one order anyone can take; three crews.
    orders = [order(1, skill_needed="mv"), order(2), order(3, skill_needed="mv")]
    crews = [crew(1), crew(2, dlat=0.01), crew(3, on_duty=False, skills=frozenset({"mv"}))]
    result = d.assign_batch(orders, crews, now=NOW)
    assert pairs(result) == {2: 1}
    reasons = {u.order_id: u for u in result.unassigned}
    assert reasons[1].reason == d.NO_ELIGIBLE_CREW
    assert reasons[1].filtered_counts == {d.OFF_DUTY: 1, d.MISSING_SKILL: 2}


def test_batch_drops_the_infeasible_cells_the_solver_had_to_fill():
    # Square 3 x 3 with a feasible matching of only 2: orders 1 and 2 both need the one "mv"
    # crew, so a full assignment must put one of them on a "big" (infeasible) cell.
    orders = [order(1, skill_needed="mv"), order(2, skill_needed="mv"), order(3)]
    crews = [crew(1, skills=frozenset({"mv"})), crew(2, dlat=0.01), crew(3, dlat=0.02)]
    matrix = d.batch_cost_matrix(orders, crews, now=NOW)
    rows, cols = linear_sum_assignment(matrix.cost)
    assert not matrix.feasible[rows, cols].all()
    result = d.solve_batch(matrix)
    _check_feasible_and_within_capacity(orders, crews, result)
    assert len(result.assignments) == 2
    assert pairs(result)[3] == 2
    [left] = result.unassigned
    assert left.order_id in {1, 2}
    assert left.reason == d.OUTCOMPETED


def _brute_force(orders, crews, spare, cost_of):
    """Every map of orders to a crew or to nobody within capacity: the most served, cheapest."""
    best = None
    for choice in itertools.product([None, *range(len(crews))], repeat=len(orders)):
        load = [0] * len(crews)
        total, served = 0.0, 0
        ok = True
        for i, j in enumerate(choice):
            if j is None:
                continue
            c = cost_of(orders[i], crews[j])
            load[j] += 1
            if c is None or load[j] > spare[j]:
                ok = False
                break
            total += c
            served += 1
        if ok and (best is None or (-served, total) < best):
            best = (-served, total)
    return -best[0], best[1]


def _travel_or_none(o, c):
    best = d.rank_crews(o, [c], now=NOW, policy=TRAVEL_ONLY).best
    return None if best is None else best.travel_min


@pytest.mark.parametrize("seed", range(6))
def test_batch_equals_brute_force_optimum_on_5x5(seed):
    rng = random.Random(100 + seed)
    orders, crews = _random_case(rng, 5, 5, infeasible=0.3 if seed % 2 else 0.0)
    result = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    # Brute force over the 5! permutations (a partial matching extends to one of them).
    best = None
    for perm in itertools.permutations(range(5)):
        costs = [_travel_or_none(o, crews[j]) for o, j in zip(orders, perm, strict=True)]
        key = (-sum(c is not None for c in costs), sum(c for c in costs if c is not None))
        best = key if best is None or key < best else best
    assert len(result.assignments) == -best[0]
    assert travel_total(result) == pytest.approx(best[1])


@pytest.mark.parametrize("seed", range(4))
def test_batch_with_capacity_equals_brute_force_optimum(seed):
    rng = random.Random(200 + seed)
    orders, crews = _random_case(rng, 5, 3, capacity_max=2, infeasible=0.2)
    result = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    served, total = _brute_force(orders, crews, [c.spare for c in crews], _travel_or_none)
    assert len(result.assignments) == served
    assert travel_total(result) == pytest.approx(total)


def test_sla_slack_gives_tight_orders_the_scarce_crew():
    # One crew, two orders; the loose one is nearer and older, the tight one is due in 20 min.
    loose = order(1, dlat=0.01, created_at=NOW - timedelta(hours=2))
    tight = order(2, dlat=0.02, sla_deadline_at=NOW + timedelta(minutes=20))
    result = d.assign_batch([loose, tight], [crew(1)], now=NOW)
    assert pairs(result) == {2: 1}
    assert [(u.order_id, u.reason) for u in result.unassigned] == [(1, d.OUTCOMPETED)]
    # Without the deadline the nearer order wins: the priority is what made the difference.
    tight = dataclasses.replace(tight, sla_deadline_at=None)
    assert pairs(d.assign_batch([loose, tight], [crew(1)], now=NOW)) == {1: 1}


def test_batch_matrix_is_built_on_capacity_slots():
    orders = [order(i) for i in range(1, 4)]
    crews = [crew(1, capacity=5), crew(2, capacity=2, open_orders=1), crew(3, on_duty=False)]
    m = d.batch_cost_matrix(orders, crews, now=NOW)
    # Crew 1 gets min(spare 5, 3 rows) = 3 columns, crew 2 one, crew 3 (off duty) none.
    assert m.slot_crew.tolist() == [0, 0, 0, 1]
    assert m.slot_load.tolist() == [0, 1, 2, 0]
    assert m.cost.shape == (3, 4)
    assert np.isfinite(m.cost).all()


# --- the sparse batch -----------------------------------------------------------------------

DENSE = dataclasses.replace(TRAVEL_ONLY, batch_neighbours=0)


def _pairs_cost(t, found):
    return sum(float(t.cost[i, j]) + t.policy.workload_min_per_order * load for i, j, load in found)


@pytest.mark.parametrize("seed", range(20))
def test_the_sparse_matching_costs_what_the_dense_optimum_costs(seed):
    rng = random.Random(1000 + seed)
    orders, crews = _random_case(
        rng, rng.randint(5, 30), rng.randint(5, 40), capacity_max=3, infeasible=0.3
    )
    policy = DispatchPolicy(territory_bonus_min=0.0, sla_late_weight=0.0, batch_neighbours=0)
    t = d.costs._terms(orders, crews, now=NOW, policy=policy)
    dense = d.solve_batch(d.batch_cost_matrix(orders, crews, now=NOW, policy=policy))
    # With every crew as a neighbour the sparse graph is the dense problem: when it can serve
    # every order, it finds a matching of exactly the dense optimum's cost
    found = d.matching.sparse_pairs(t, neighbours=len(crews))
    rows = np.flatnonzero(t.eligible.any(axis=1))
    if found is None:
        assert len(dense.assignments) < len(rows) or (
            sum(c.spare for c in crews) < d.matching.SPARSE_MIN_SLOTS_PER_ORDER * len(rows)
        )
        return
    assert sorted(i for i, _j, _load in found) == rows.tolist()
    assert len(dense.assignments) == len(rows)
    dense_cost = sum(a.candidate.cost for a in dense.assignments)
    assert _pairs_cost(t, found) == pytest.approx(dense_cost, abs=1e-6)
    # ... and so does the batch on few neighbours, on a case where they suffice
    few = dataclasses.replace(policy, batch_neighbours=5)
    batch = d.assign_batch(orders, crews, now=NOW, policy=few)
    _check_feasible_and_within_capacity(orders, crews, batch)
    assert len(batch.assignments) == len(rows)
    assert sum(a.candidate.cost for a in batch.assignments) >= dense_cost - 1e-6


def test_the_sparse_batch_equals_the_dense_optimum_on_a_storm_sized_case():
    rng = random.Random(7)
    orders, crews = _random_case(rng, 300, 200, capacity_max=3, infeasible=0.0)
    crews = [dataclasses.replace(c, capacity=3) for c in crews]
    sparse = d.assign_batch(orders, crews, now=NOW, policy=TRAVEL_ONLY)
    dense = d.assign_batch(orders, crews, now=NOW, policy=DENSE)
    assert len(sparse.assignments) == len(dense.assignments) == 300
    _check_feasible_and_within_capacity(orders, crews, sparse)
    assert sum(a.candidate.cost for a in sparse.assignments) == pytest.approx(
        sum(a.candidate.cost for a in dense.assignments), rel=1e-9
    )


def test_the_sparse_batch_keeps_standing_offers_like_the_dense_one():
    rng = random.Random(11)
    orders, crews = _random_case(rng, 40, 40, capacity_max=3, infeasible=0.0)
    crews = [dataclasses.replace(c, capacity=3) for c in crews]
    policy = dataclasses.replace(TRAVEL_ONLY, replan_min_gain_min=3.0)
    offers = {o.id: crews[(o.id * 7) % len(crews)].id for o in orders[:20]}
    sparse = d.assign_batch(orders, crews, now=NOW, policy=policy, offers=offers)
    dense = d.assign_batch(
        orders,
        crews,
        now=NOW,
        policy=dataclasses.replace(policy, batch_neighbours=0),
        offers=offers,
    )
    assert sparse.kept + len(sparse.replanned) == 20
    assert len(sparse.assignments) == 20
    assert (sparse.kept, pairs(sparse), {a.order_id: a.crew_id for a in sparse.replanned}) == (
        dense.kept,
        pairs(dense),
        {a.order_id: a.crew_id for a in dense.replanned},
    )


def test_the_batch_falls_back_to_the_dense_matrix_when_the_sparse_graph_cannot_serve_all():
    # Both orders sit on crew 1 (capacity 1); on one neighbour each, they compete for it and
    # the sparse graph has no full matching: the dense matrix serves both
    orders = [order(1), order(2, dlat=0.001)]
    crews = [crew(1), crew(2, dlat=0.05), crew(3, dlat=0.06), crew(4, dlat=0.07)]
    one = dataclasses.replace(TRAVEL_ONLY, batch_neighbours=1)
    t = d.costs._terms(orders, crews, now=NOW, policy=one)
    assert d.matching.sparse_pairs(t, neighbours=1) is None
    result = d.assign_batch(orders, crews, now=NOW, policy=one)
    assert pairs(result) == pairs(d.assign_batch(orders, crews, now=NOW, policy=DENSE))
    assert pairs(result) == {1: 1, 2: 2}


def test_scarce_crews_go_to_the_dense_matrix_and_the_tightest_orders_win():
    # Three orders, one place: the sparse graph is not tried, the dense one picks by SLA
    tight = order(3, sla_deadline_at=NOW + timedelta(minutes=30))
    orders = [order(1), order(2), tight]
    t = d.costs._terms(orders, [crew(1)], now=NOW, policy=DEFAULT)
    assert d.matching.sparse_pairs(t, neighbours=16) is None
    result = d.assign_batch(orders, [crew(1)], now=NOW)
    assert pairs(result) == {3: 1}
    assert sorted(u.reason for u in result.unassigned) == [d.OUTCOMPETED] * 2


DEFAULT = DispatchPolicy()


# --- the whole plan -------------------------------------------------------------------------


def test_urgent_orders_are_assigned_first_even_in_storm_mode():
    policy = DispatchPolicy(storm_threshold=2, batch_size=2)
    # The only crew sits on the non-urgent orders; the urgent order is farther and newer.
    normal = [order(i, created_at=NOW - timedelta(hours=1)) for i in (1, 2, 3)]
    urgent = order(9, dlat=0.05, urgent=True, created_at=NOW)
    plan = d.plan_dispatch([*normal, urgent], [crew(1, capacity=2)], now=NOW, policy=policy)
    assert plan.storm
    assert plan.assignments[0].order_id == 9
    assert plan.assignments[0].mode == "urgent"
    assert [a.mode for a in plan.assignments[1:]] == ["batch"]
    assert len(plan.unassigned) == 2
    assert plan.crews[0].open_orders == 2


def test_not_storm_dispatches_one_by_one_and_storm_matches_all_waiting_orders_together():
    orders = [order(i, dlat=0.001 * i) for i in range(1, 8)]
    crews = [crew(j, dlng=0.01 * j, capacity=1) for j in range(1, 6)]
    calm = d.plan_dispatch(orders, crews, now=NOW)
    assert not calm.storm
    assert {a.mode for a in calm.assignments} == {"single"}
    # batch_size is only the commit chunk of the service: the plan is one matching
    policy = DispatchPolicy(storm_threshold=3, batch_size=3)
    storm = d.plan_dispatch(orders, crews, now=NOW, policy=policy)
    assert storm.storm
    assert storm.batches == 1
    assert {a.mode for a in storm.assignments} == {"batch"}
    _check_feasible_and_within_capacity(orders, crews, storm)
    assert len(storm.assignments) == 5
    assert len(storm.unassigned) == 2
    assert pairs(storm) == pairs(d.assign_batch(orders, crews, now=NOW, policy=policy))


def test_storm_is_not_cut_in_arrival_order():
    # The first order to arrive sits between two crews; the second sits on crew 1. Matching
    # them in arrival order one at a time gives crew 1 to the first; together, each gets its
    # own nearest crew.
    first = order(1, dlng=0.01, created_at=NOW - timedelta(minutes=10))
    second = order(2, created_at=NOW - timedelta(minutes=1))
    crews = [crew(1), crew(2, dlng=0.025)]
    policy = dataclasses.replace(TRAVEL_ONLY, storm_threshold=1, batch_size=1)
    plan = d.plan_dispatch([first, second], crews, now=NOW, policy=policy)
    assert pairs(plan) == {1: 2, 2: 1}


def test_storm_serves_the_tightest_deadline_when_crews_are_short():
    policy = DispatchPolicy(storm_threshold=1, batch_size=1)
    relaxed = order(1, created_at=NOW - timedelta(hours=3))
    due = order(2, sla_deadline_at=NOW + timedelta(minutes=90))
    plan = d.plan_dispatch([relaxed, due], [crew(1)], now=NOW, policy=policy)
    assert pairs(plan) == {2: 1}
    assert [u.order_id for u in plan.unassigned] == [1]


# --- the rolling horizon: offers not yet accepted are planned again ------------------------


def _offered(crews, offers):
    """The crews as the service sees them: each standing offer counts against its crew."""
    held = {}
    for o in offers:
        held[o.crew_id] = held.get(o.crew_id, 0) + 1
    return [dataclasses.replace(c, open_orders=c.open_orders + held.get(c.id, 0)) for c in crews]


def test_an_offer_moves_when_a_new_arrival_gains_more_than_the_threshold():
    # Order 1 was offered crew 1 (the only crew then). Order 2 arrives right on crew 1, and
    # crew 2 is about as near to order 1 as crew 1 is far from order 2's alternative.
    o1 = order(1, dlng=0.02)
    o2 = order(2)
    crews = [crew(1), crew(2, dlng=0.03)]
    offers = [d.Offer(o1, 1)]
    policy = dataclasses.replace(TRAVEL_ONLY, storm_threshold=0, replan_min_gain_min=2.0)
    plan = d.plan_dispatch([o2], _offered(crews, offers), now=NOW, policy=policy, offers=offers)
    # Kept offers would cost travel(1→c1) + travel(2→c2); moving: travel(1→c2) + travel(2→c1)
    assert [(a.order_id, a.crew_id, a.mode) for a in plan.replanned] == [(1, 2, "replan")]
    assert pairs(plan) == {2: 1}
    assert plan.kept == 0
    assert [c.open_orders for c in plan.crews] == [1, 1]


def test_an_offer_stays_when_the_gain_is_below_the_threshold():
    o1 = order(1, dlng=0.02)
    o2 = order(2)
    crews = [crew(1), crew(2, dlng=0.03)]
    offers = [d.Offer(o1, 1)]
    moved = d.plan_dispatch(
        [o2],
        _offered(crews, offers),
        now=NOW,
        policy=dataclasses.replace(TRAVEL_ONLY, storm_threshold=0, replan_min_gain_min=0.0),
        offers=offers,
    )
    gain = sum(a.candidate.travel_min for a in (*moved.replanned, *moved.assignments))
    kept_cost = sum(
        d.rank_crews(o, [c], now=NOW, policy=TRAVEL_ONLY).best.travel_min
        for o, c in ((o1, crews[0]), (o2, crews[1]))
    )
    saving = kept_cost - gain
    assert saving > 0
    # A threshold just above the saving keeps the offer and sends the new order elsewhere
    policy = dataclasses.replace(TRAVEL_ONLY, storm_threshold=0, replan_min_gain_min=saving + 0.01)
    plan = d.plan_dispatch([o2], _offered(crews, offers), now=NOW, policy=policy, offers=offers)
    assert plan.replanned == ()
    assert plan.kept == 1
    assert pairs(plan) == {2: 2}


def test_a_standing_offer_is_never_dropped_for_a_new_order():
    # One crew, offered to order 1; an order with a tight deadline arrives next to it.
    o1 = order(1, dlat=0.02)
    due = order(2, sla_deadline_at=NOW + timedelta(minutes=20))
    offers = [d.Offer(o1, 1)]
    crews = _offered([crew(1)], offers)
    plan = d.plan_dispatch([due], crews, now=NOW, policy=DispatchPolicy(), offers=offers)
    assert plan.kept == 1
    assert plan.assignments == ()
    assert [u.order_id for u in plan.unassigned] == [2]
    assert plan.crews[0].open_orders == 1


@pytest.mark.parametrize("seed", range(5))
def test_rolling_horizon_with_no_threshold_reaches_the_full_matching(seed):
    rng = random.Random(seed)
    orders = [
        order(i, dlat=rng.uniform(-0.05, 0.05), dlng=rng.uniform(-0.05, 0.05)) for i in range(1, 13)
    ]
    crews = [
        crew(j, dlat=rng.uniform(-0.05, 0.05), dlng=rng.uniform(-0.05, 0.05)) for j in range(1, 13)
    ]
    policy = dataclasses.replace(TRAVEL_ONLY, storm_threshold=0, replan_min_gain_min=0.0)
    # Given the orders arriving three at a time, every run planning the offers again
    state, offers = list(crews), {}
    for start in range(0, len(orders), 3):
        standing = [d.Offer(orders[o - 1], c) for o, c in offers.items()]
        plan = d.plan_dispatch(
            orders[start : start + 3], state, now=NOW, policy=policy, offers=standing
        )
        state = list(plan.crews)
        offers.update({a.order_id: a.crew_id for a in (*plan.assignments, *plan.replanned)})
    # Then the final offers cost what one matching of all orders costs
    full = d.assign_batch(orders, crews, now=NOW, policy=policy)

    def travel(p):
        return sum(
            d.rank_crews(orders[o - 1], [crews[c - 1]], now=NOW, policy=policy).best.travel_min
            for o, c in p.items()
        )

    assert travel(offers) == pytest.approx(travel(pairs(full)), rel=1e-9)
    assert all(c.open_orders == 1 for c in state)


def test_empty_inputs_give_empty_results():
    o = order(1)
    assert d.rank_crews(o, [], now=NOW).best is None
    assert d.assign_batch([], [crew(1)], now=NOW).assignments == ()
    [left] = d.assign_batch([o], [], now=NOW).unassigned
    assert left.reason == d.NO_ELIGIBLE_CREW
    assert d.plan_dispatch([], [], now=NOW).assignments == ()


def test_decisions_survive_a_json_round_trip_for_the_record():
    ranking = d.rank_crews(order(1), [crew(1), crew(2, on_duty=False)], now=NOW)
    assert json.loads(json.dumps(ranking.as_dict())) == ranking.as_dict()
    decision = _preempt()
    assert json.loads(json.dumps(dict(decision.details))) == dict(decision.details)


# --- re-dispatch and pre-emption ------------------------------------------------------------


def test_redispatch_excludes_crews_that_rejected_or_timed_out():
    o = order(1)
    crews = [crew(1, dlat=0.01), crew(2, dlat=0.02), crew(3, dlat=0.03)]
    ranking = d.pick_next_crew(o, crews, rejected_by={1}, timed_out=[2], now=NOW)
    assert ranking.best.crew_id == 3
    reasons = {f.crew_id: f.reasons for f in ranking.filtered}
    assert reasons == {1: (d.REJECTED,), 2: (d.TIMED_OUT,)}
    assert d.pick_next_crew(o, crews, rejected_by={1, 2, 3}, timed_out=(), now=NOW).best is None


def _preempt(**kw):
    args = {
        "urgent_order": order(1, urgent=True),
        "crew": crew(1, dlat=0.01, open_orders=1),
        "current_order": order(2, sla_deadline_at=NOW + timedelta(hours=2)),
        "current_stage": "en_route",
        "best_free": d.rank_crews(order(1), [crew(9, dlat=0.2)], now=NOW).best,
        "now": NOW,
    }
    args.update(kw)
    return d.preemption_decide(**args)


def test_preemption_allowed_for_a_real_gain():
    decision = _preempt()
    assert decision.allowed
    assert decision.reason == d.PREEMPT_ALLOWED
    assert decision.details["gain_min"] > 15
    # No free crew at all: also allowed.
    assert _preempt(best_free=None).allowed


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"urgent_order": order(1)}, d.PREEMPT_NOT_URGENT),
        ({"current_order": order(2, urgent=True)}, d.PREEMPT_VICTIM_URGENT),
        ({"current_stage": "on_site"}, d.PREEMPT_STAGE),
        (
            {"current_order": order(2, sla_deadline_at=NOW + timedelta(minutes=10))},
            d.PREEMPT_VICTIM_SLA,
        ),
        ({"urgent_order": order(1, urgent=True, skill_needed="mv")}, d.PREEMPT_CREW_INELIGIBLE),
        (
            {"best_free": d.rank_crews(order(1), [crew(9, dlat=0.02)], now=NOW).best},
            d.PREEMPT_FREE_CREW,
        ),
    ],
)
def test_preemption_refused_with_the_reason(kw, reason):
    decision = _preempt(**kw)
    assert not decision.allowed
    assert decision.reason == reason
    assert reason in d.REASON_LABELS


# --- grab pool ------------------------------------------------------------------------------


def test_crews_within_radius_by_area_class_and_eligibility():
    o = order(1, skill_needed="lv")
    crews = [
        crew(1, dlat=0.03),  # 3.3 km
        crew(2, dlat=0.08),  # 8.9 km
        crew(3, dlat=0.01, on_duty=False),
        crew(4, dlat=0.02, skills=frozenset({"mv"})),
        crew(5, lat=None, lng=None),
        crew(6, dlat=0.01),  # 1.1 km
    ]
    assert [cid for cid, _ in d.crews_within_radius(o, crews)] == [6, 1]
    rural = dataclasses.replace(o, area_class=d.RURAL)
    assert [cid for cid, _ in d.crews_within_radius(rural, crews)] == [6, 1, 2]
    everyone = d.crews_within_radius(o, crews, eligible_only=False, radius_km=4)
    assert [cid for cid, _ in everyone] == [3, 6, 4, 1]
    assert everyone[0][1] == pytest.approx(1.11, abs=0.01)


@pytest.mark.parametrize(
    ("waited_min", "points"), [(-1, 0), (0, 0), (4.9, 0), (5, 1), (27, 5), (600, 20)]
)
def test_grab_bonus_points_grow_with_waiting_and_are_capped(waited_min, points):
    since = NOW - timedelta(minutes=waited_min)
    assert d.grab_bonus_points(waiting_since=since, now=NOW) == points
