"""Similar customers: the pure index (standardisation, radius monotonicity) and the query on
real records."""

from datetime import timedelta

import numpy as np
import pytest

from complaints import similarity
from complaints.selectors import complaint_similar_customers, customer_features
from complaints.tests.factories import make_complaint
from complaints.tests.helpers import past_outage


def random_index(n: int = 2000, seed: int = 7) -> similarity.SimilarityIndex:
    rng = np.random.default_rng(seed)
    raw = np.column_stack(
        [
            rng.poisson(1.0, n),
            rng.exponential(60, n),
            rng.integers(0, 3, n),
            rng.poisson(0.3, n),
            rng.poisson(0.1, n),
            rng.poisson(0.05, n),
            rng.integers(0, 3, n),
            rng.random(n) < 0.02,
            rng.exponential(30, n),
        ]
    ).astype(float)
    return similarity.SimilarityIndex(np.arange(1, n + 1), raw)


def test_columns_are_standardised():
    index = random_index()
    assert np.allclose(index.vectors.mean(axis=0), 0, atol=1e-9)
    assert np.allclose(index.vectors.std(axis=0), 1, atol=1e-9)


def test_constant_column_does_not_divide_by_zero():
    raw = np.ones((5, len(similarity.FEATURES)))
    raw[:, 0] = [0, 1, 2, 3, 4]
    index = similarity.SimilarityIndex([1, 2, 3, 4, 5], raw)
    assert np.isfinite(index.vectors).all()
    assert [m.row for m in index.within(index.vectors[2], 0.8)] == [2, 1, 3]


@pytest.mark.parametrize("limit", [None, 25])
def test_a_larger_radius_never_loses_a_customer(limit):
    index = random_index()
    rng = np.random.default_rng(1)
    for query_row in rng.integers(0, len(index.ids), 20):
        vector = index.vectors[query_row]
        previous: set[int] = set()
        for radius in np.linspace(0, 3, 16):
            found = index.within(vector, float(radius), limit=limit, exclude_rows={int(query_row)})
            assert all(m.distance <= radius for m in found)
            assert [m.distance for m in found] == sorted(m.distance for m in found)
            rows = {m.row for m in found}
            # Everything ranked before a customer found at a smaller radius lies within that
            # radius too, so the customer keeps its rank, limit or not.
            assert previous <= rows
            previous = rows


def test_results_match_brute_force():
    index = random_index(500)
    vector = index.vectors[0]
    found = {m.row for m in index.within(vector, 1.2)}
    brute = set(np.flatnonzero(np.linalg.norm(index.vectors - vector, axis=1) <= 1.2).tolist())
    assert found == brute


@pytest.mark.django_db
def test_features_come_from_the_records(network, sp):
    past_outage(network, started_ago=timedelta(days=2), lasted=timedelta(hours=2))
    make_complaint(sp)
    ids, _accounts, raw = customer_features()
    row = raw[ids.index(sp.pk)]
    f = dict(zip(similarity.FEATURES, row, strict=True))
    assert f["interruptions_90d"] == 1
    assert f["minutes_90d"] == pytest.approx(120, abs=0.1)
    assert f["complaints_365d"] == 1
    outside = network.sps["T3"][0]
    assert raw[ids.index(outside.pk)][0] == 0


@pytest.mark.django_db
def test_similar_customers_share_the_outage_and_exclude_complainants(network, sp):
    # Given an outage on S1 (T1 and T2: six customers), the rest of the feeder untouched
    past_outage(network, "S1", started_ago=timedelta(days=1), lasted=timedelta(hours=3))
    neighbour = network.sps["T2"][0]
    make_complaint(neighbour, phone="2")  # already complained: not on the list
    c = make_complaint(sp)
    results = complaint_similar_customers(complaint=c, radius=0.5, limit=50)
    found = {r["service_point"] for r in results}
    assert found == network.below("T1", "T2") - {sp.pk, neighbour.pk}
    wider = complaint_similar_customers(complaint=c, radius=5, limit=50)
    assert found <= {r["service_point"] for r in wider}
    assert network.sps["T3"][0].pk in {r["service_point"] for r in wider}
