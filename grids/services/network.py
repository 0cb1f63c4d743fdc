"""Writes to the network: switching and the materialised supply tree."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from dispatch_center.core.exceptions import DomainError
from grids import topology
from grids.models import Device, Node

logger = logging.getLogger(__name__)


def device_qs_for_update(pks: Iterable[int]):  # type: ignore[no-untyped-def]
    """Lock devices, always in primary-key order (see STYLE.md, Locks)."""
    return Device.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk")


def network_component_links(*, feeder_ids: Iterable[int]) -> tuple[list[topology.Link], set[int]]:
    """Links of every device electrically connected (ignoring switch states) to the feeders.

    Ties join feeders, so switching on one feeder can change another's supply: the
    component grows until no device outside it touches one of its nodes.
    """
    feeders = set(feeder_ids)
    rows: dict[int, tuple[int, int, int, bool, int]] = {}
    nodes: set[int] = set()
    frontier_feeders = set(feeders)
    frontier_nodes: set[int] = set()
    while frontier_feeders or frontier_nodes:
        cond = Q(feeder_id__in=frontier_feeders) if frontier_feeders else Q(pk__in=[])
        if frontier_nodes:
            cond |= Q(node_a_id__in=frontier_nodes) | Q(node_b_id__in=frontier_nodes)
        new_feeders: set[int] = set()
        new_nodes: set[int] = set()
        for pk, a, b, is_open, feeder_id in Device.objects.filter(cond).values_list(
            "pk", "node_a_id", "node_b_id", "is_open", "feeder_id"
        ):
            if pk in rows:
                continue
            rows[pk] = (pk, a, b, is_open, feeder_id)
            if feeder_id not in feeders:
                feeders.add(feeder_id)
                new_feeders.add(feeder_id)
            for n in (a, b):
                if n not in nodes:
                    nodes.add(n)
                    new_nodes.add(n)
        frontier_feeders, frontier_nodes = new_feeders, new_nodes
    links = [topology.Link(pk, a, b, is_open) for pk, a, b, is_open, _ in rows.values()]
    sources = set(Node.objects.filter(pk__in=nodes, is_source=True).values_list("pk", flat=True))
    return links, sources


@transaction.atomic
def topology_rebuild(*, feeder_ids: Iterable[int]) -> int:
    """Recompute the supply tree of the network component holding ``feeder_ids``.

    Writes ``energized``, ``fed_from``, ``source``, ``tree_pre`` and ``tree_post`` of every
    device in the component; returns how many devices changed. The only writer of those fields.
    """
    links, sources = network_component_links(feeder_ids=feeder_ids)
    if not links:
        return 0
    tree = topology.supply_tree(links, sources)
    current = {
        row[0]: row[1:]
        for row in Device.objects.filter(pk__in=[lk.device for lk in links]).values_list(
            "pk", "energized", "fed_from_id", "source_id", "tree_pre", "tree_post"
        )
    }
    changed: list[Device] = []
    for lk in links:
        entry = tree.get(lk.device)
        want = (
            (True, entry.fed_from, entry.source, entry.pre, entry.post)
            if entry
            else (False, None, None, None, None)
        )
        if current.get(lk.device) != want:
            changed.append(
                Device(
                    pk=lk.device,
                    energized=want[0],
                    fed_from_id=want[1],
                    source_id=want[2],
                    tree_pre=want[3],
                    tree_post=want[4],
                )
            )
    if changed:
        Device.objects.bulk_update(
            changed, ["energized", "fed_from", "source", "tree_pre", "tree_post"], batch_size=2000
        )
    return len(changed)


@transaction.atomic
def device_set_open(*, device: Device, is_open: bool) -> Device:
    """Open or close a switching device and rebuild the supply tree it belongs to.

    Returns the refreshed device. Transformers cannot be switched.
    """
    if not device.is_switching:
        raise DomainError(f"Device {device.code} is not a switching device.", code="not_switchable")
    locked = device_qs_for_update([device.pk]).get()
    if locked.is_open != is_open:
        Device.objects.filter(pk=locked.pk).update(is_open=is_open)
        topology_rebuild(feeder_ids=[locked.feeder_id])
    locked.refresh_from_db()
    return locked
