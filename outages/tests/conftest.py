"""Fixtures of the outages tests: a small network, an event recorder."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from grids.models import Device
from grids.services import topology_rebuild
from grids.tests.factories import (
    DeviceFactory,
    DistrictFactory,
    FeederFactory,
    GridFactory,
    NodeFactory,
    ServicePointFactory,
)
from outages import events


@dataclass
class Network:
    """Devices by code and the service points below each transformer."""

    devices: dict[str, Any]
    sps: dict[str, list[Any]] = field(default_factory=dict)

    def __getitem__(self, code: str) -> Device:
        return self.devices[code]

    def below(self, *transformers: str) -> set[int]:
        return {sp.pk for t in transformers for sp in self.sps[t]}

    @property
    def all_sps(self) -> set[int]:
        return self.below(*self.sps)


def build_network() -> Network:
    """One feeder::

    source ─ B (breaker) ─┬─ S1 (switch) ─┬─ T1 (3 customers)
                          │               └─ T2 (3 customers)
                          ├─ S2 (switch) ── T3 (3 customers)
                          └─ FU (fuse) ──── T4 (2 customers, one important)
    """
    feeder: Any = FeederFactory()
    district = DistrictFactory()
    grid = GridFactory(district=district)
    src, n1, n2, n3, n4 = (NodeFactory(is_source=True), *(NodeFactory() for _ in range(4)))
    d: dict[str, Any] = {}

    def dev(code, kind, a, b):
        d[code] = DeviceFactory(code=code, kind=kind, feeder=feeder, node_a=a, node_b=b)

    dev("B", Device.Kind.BREAKER, src, n1)
    dev("S1", Device.Kind.LOAD_BREAK_SWITCH, n1, n2)
    dev("S2", Device.Kind.LOAD_BREAK_SWITCH, n1, n3)
    dev("FU", Device.Kind.FUSE, n1, n4)
    positions = {"T1": (22.540, 114.050), "T2": (22.542, 114.052), "T3": (22.538, 114.060)}
    positions["T4"] = (22.545, 114.045)
    for code, node in (("T1", n2), ("T2", n2), ("T3", n3), ("T4", n4)):
        dev(code, Device.Kind.TRANSFORMER, node, NodeFactory())
    net = Network(devices=d)
    for code, (lat, lng) in positions.items():
        count = 2 if code == "T4" else 3
        net.sps[code] = [
            ServicePointFactory(
                transformer=d[code],
                lat=lat + i * 0.0003,
                lng=lng + i * 0.0003,
                district=district,
                grid=grid,
                is_important=(code == "T4" and i == 0),
            )
            for i in range(count)
        ]
    topology_rebuild(feeder_ids=[feeder.pk])
    for device in d.values():
        device.refresh_from_db()
    return net


@pytest.fixture
def network(db) -> Network:
    return build_network()


@pytest.fixture
def event_log():
    """Every published event, recorded as ``(name, payload)`` when it is delivered."""
    log: list[tuple[str, dict]] = []

    def record(event):
        log.append((event.name, dict(event.payload)))

    for name in events.EVENTS:
        events.subscribe(name, record)
    yield log
    for name in events.EVENTS:
        events.unsubscribe(name, record)
