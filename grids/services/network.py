"""Writes to the network: switching and the materialised supply tree."""

import logging
from collections.abc import Iterable

from django.db import connection, transaction
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

    Ties join feeders, so switching on one feeder can change another's supply: the component
    is the closure of the feeders under "a device of one touches a node of another" (the
    substation busbar joins all feeders of a substation). Each round is one query on feeder
    ids, with the node sets as subqueries: shipping thousands of node ids back and forth made
    this the cost of every selector call on an open or dead device.
    """
    feeders = set(feeder_ids)
    while True:
        touching = (
            Device.objects.filter(_touches(feeders))
            .exclude(feeder_id__in=feeders)
            .order_by()
            .values_list("feeder_id", flat=True)
            .distinct()
        )
        found = set(touching)
        if not found:
            break
        feeders |= found
    rows = list(
        Device.objects.filter(feeder_id__in=feeders)
        .order_by()
        .values_list("pk", "node_a_id", "node_b_id", "is_open")
    )
    links = [topology.Link(pk, a, b, is_open) for pk, a, b, is_open in rows]
    sources = set(
        Node.objects.filter(Q(is_source=True) & _node_of(feeders)).values_list("pk", flat=True)
    )
    return links, sources


def _node_of(feeders: set[int], field: str = "pk") -> Q:
    """``field`` is a node of a device of ``feeders`` (as subqueries, no id lists)."""
    members = Device.objects.filter(feeder_id__in=feeders).order_by()
    return Q(**{f"{field}__in": members.values("node_a_id")}) | Q(
        **{f"{field}__in": members.values("node_b_id")}
    )


def _touches(feeders: set[int]) -> Q:
    """A device with either end on a node of a device of ``feeders``."""
    return _node_of(feeders, "node_a_id") | _node_of(feeders, "node_b_id")


_TREE_FIELDS = ("energized", "fed_from", "source", "tree_pre", "tree_post", "on_closed_loop")


TreeRow = tuple[int, bool, int | None, int | None, int | None, int | None, bool | None]


def _write_tree(rows: list[TreeRow]) -> None:
    """Write (pk, energized, fed_from, source, pre, post, on_closed_loop) rows of the tree.

    On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` per batch: ``bulk_update`` builds a
    ``CASE WHEN pk = ...`` per column whose cost grows with the square of the batch, which
    dominates a rebuild of a few thousand devices.
    """
    qn = connection.ops.quote_name
    if connection.vendor != "postgresql":
        # SQLite (the embedded demo): one prepared UPDATE per row is far cheaper than
        # bulk_update's CASE expressions.
        table = qn(Device._meta.db_table)
        sets = ", ".join(
            f"{qn(c)} = %s"
            for c in (
                "energized",
                "fed_from_id",
                "source_id",
                "tree_pre",
                "tree_post",
                "on_closed_loop",
            )
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {qn('id')} = %s",  # noqa: S608
                [(e, f, s_, a, b, loop, pk) for pk, e, f, s_, a, b, loop in rows],
            )
        return
    qn = connection.ops.quote_name
    meta = Device._meta
    column_of = {f.name: str(f.column) for f in meta.concrete_fields}
    columns = [qn(column_of[name]) for name in _TREE_FIELDS]
    assignments = ", ".join(f"{col} = v.{qn('c' + str(i))}" for i, col in enumerate(columns))
    row_sql = (
        "(%s::bigint, %s::boolean, %s::bigint, %s::bigint, %s::integer, %s::integer, %s::boolean)"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            batch = rows[start : start + 5000]
            params = [value for row in batch for value in row]
            # Only quoted identifiers and placeholders are interpolated; values go as params.
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} AS d SET {assignments} "  # noqa: S608
                f"FROM (VALUES {', '.join([row_sql] * len(batch))}) "
                f"AS v(id, c0, c1, c2, c3, c4, c5) "
                f"WHERE d.{qn(column_of['id'])} = v.id",
                params,
            )


@transaction.atomic
def topology_rebuild(*, feeder_ids: Iterable[int]) -> int:
    """Recompute the supply tree of the network component holding ``feeder_ids``.

    Writes ``energized``, ``fed_from``, ``source``, ``tree_pre``, ``tree_post`` and
    ``on_closed_loop`` of every device in the component; returns how many devices changed.
    The only writer of those fields.
    """
    links, sources = network_component_links(feeder_ids=feeder_ids)
    if not links:
        return 0
    tree = topology.supply_tree(links, sources)
    current = {
        row[0]: row[1:]
        for row in Device.objects.filter(pk__in=[lk.device for lk in links]).values_list(
            "pk", "energized", "fed_from_id", "source_id", "tree_pre", "tree_post", "on_closed_loop"
        )
    }
    changed: list[TreeRow] = []
    for lk in links:
        entry = tree.get(lk.device)
        want = (
            (True, entry.fed_from, entry.source, entry.pre, entry.post, entry.on_loop)
            if entry
            else (False, None, None, None, None, False)
        )
        if current.get(lk.device) != want:
            changed.append((lk.device, *want))
    if changed:
        _write_tree(changed)
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
