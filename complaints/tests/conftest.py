"""Fixtures of the complaints tests: the outages tests' small network, complaint helpers."""

from typing import Any

import pytest

from complaints import selectors
from outages.tests.conftest import Network, build_network


@pytest.fixture
def network(db) -> Network:
    return build_network()


@pytest.fixture
def sp(network) -> Any:
    """An ordinary (not important) customer below T1."""
    return network.sps["T1"][0]


@pytest.fixture(autouse=True)
def _fresh_similarity_index():
    selectors.customer_index_clear()
    yield
    selectors.customer_index_clear()
