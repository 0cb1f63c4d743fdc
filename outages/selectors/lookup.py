"""Reads of the public address look-up (``GET /api/v1/public/lookup``), in few statements.

The look-up answers, for each service point matching what a caller typed, its address, its
district, the active outage that has it out and its published planned outages. Read one by one
(a search, then per match an outage query, a progress query, a planned query) that took
dozens of statements; here it takes one in the common case (no match has an outage or a
planned outage), two or three otherwise, whatever the number of matches:

1. ``lookup_points``: the search (``grids.selectors.lookup.match_probe``) with, for each
   match, its district's names, the id of its active outage (``outage_for_service_point``'s
   choice) and whether a published planned outage concerns it; or ``lookup_points_by_id`` for
   the matches ``service_point_search`` found when the probe cannot answer;
2. ``lookup_outages``: those outages with type, category, cause and public progress;
3. ``lookup_planned``: the planned outages of the matches that have one
   (``planned_outages_for_service_point(published_only=True)``'s rows and order).

Rows are plain tuples: no model is instantiated.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal, NamedTuple

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from grids.selectors.lookup import (
    ACCOUNT_ORDER_BY,
    ORDER_BY,
    VERSION_SQL,
    account_probe,
    index_outdated,
    indexed_matches,
    match_probe,
    settings_sql,
)
from grids.selectors.search import PROBE_CAP
from outages.models import Outage, OutageEvent

PLANNED_DAYS = 7
PUBLISHED_PLANNED = (
    Outage.Status.NOTIFIED,
    Outage.Status.IN_PROGRESS,
    Outage.Status.PARTIALLY_RESTORED,
)


class LookupPoint(NamedTuple):
    id: int
    address: str
    lat: float
    lng: float
    district_name: str | None
    district_name_en: str | None
    outage_id: int | None
    has_planned: bool


class LookupOutage(NamedTuple):
    id: int
    category_code: str
    type_name: str
    type_name_en: str
    type_code: str
    status: str
    cause_name: str | None
    cause_name_en: str | None
    cause_code: str | None
    started_at: datetime | None
    etr: datetime | None
    customers_affected: int
    progress_statuses: list[str]
    progress_at: list[datetime]


class LookupPlanned(NamedTuple):
    service_point_id: int
    id: int
    starts_at: datetime
    ends_at: datetime
    description: str
    type_name: str
    type_name_en: str


# The columns of a match, over the CTE ``top`` (``id``, ``address``, ``lat``, ``lng``,
# ``district_id``): the outage is the one ``outage_for_service_point`` picks. The statuses are
# the code's constants, written as literals; ``until`` and ``now`` bound the planned window.
_POINT_COLUMNS_SQL = """
    top.id, top.address, top.lat, top.lng, d.name, d.name_en,
    (SELECT i.outage_id FROM outages_interruption i
       JOIN outages_outage o ON o.id = i.outage_id
      WHERE i.service_point_id = top.id AND i.started_at IS NOT NULL AND i.ended_at IS NULL
        AND o.status IN ({active})
      ORDER BY o.depth DESC, i.already_out_in_id ASC NULLS FIRST, i.started_at, i.id
      LIMIT 1),
    EXISTS (SELECT 1 FROM outages_interruption pi
       JOIN outages_outage po ON po.id = pi.outage_id
      WHERE pi.service_point_id = top.id AND po.planned_start_at IS NOT NULL
        AND po.planned_start_at <= {until} AND po.planned_end_at >= {now}
        AND po.status IN ({planned}))
"""


def _literals(values: Iterable[str]) -> str:
    values = sorted(values)
    if not all(re.fullmatch("[a-z_]+", v) for v in values):
        raise ValueError(f"not a status code: {values}")
    return ", ".join(f"'{v}'" for v in values)


def _point_columns(until: str, now: str) -> str:
    return _POINT_COLUMNS_SQL.format(
        active=_literals(Outage.ACTIVE), planned=_literals(PUBLISHED_PLANNED), until=until, now=now
    )


_POINT_COLUMNS = _point_columns("%s", "%s")


def _point_params(now: datetime) -> list[Any]:
    return [now + timedelta(days=PLANNED_DAYS), now]


def _in(values: list[Any]) -> tuple[str, list[Any]]:
    """``IN (...)`` of ``values`` (never empty), with its parameters: portable, unlike ANY."""
    return "IN (" + ", ".join(["%s"] * len(values)) + ")", list(values)


def lookup_points(q: str, limit: int) -> tuple[list[LookupPoint], bool] | None:
    """The matches of ``q`` as ``service_point_search`` ranks them, in one statement, and
    whether a gazetteer place is called exactly ``q`` (``place_named`` would find one); None
    when the probe cannot answer (then: ``service_point_search`` and ``lookup_points_by_id``).

    Searched in the process's address index when it has one and it is current, else in the
    database (``match_probe``, PostgreSQL only).
    """
    if connection.vendor != "postgresql":
        return None
    indexed = _indexed_points(q, limit)
    if indexed is not _Index.UNSURE:
        return indexed
    probe = match_probe(q, limit)
    order_by = ORDER_BY
    if probe is None:
        probe, order_by = account_probe(q, limit), ACCOUNT_ORDER_BY
    if probe is None:
        return None
    set_sql, set_params = settings_sql(probe.settings)
    sql = (
        f"{probe.sql} SELECT (SELECT count(*) FROM probe), (SELECT place_named FROM named),"  # noqa: S608
        f" ({probe.keep}), {_POINT_COLUMNS}"
        f" FROM top LEFT JOIN grids_district d ON d.id = top.district_id ORDER BY {order_by}"
    )
    params = [*probe.params, *probe.keep_params, *_point_params(timezone.now())]
    rows = _fetch_with_settings(set_sql, set_params, sql, params)
    if not rows or rows[0][0] > PROBE_CAP:
        # Nothing found (then: similarity, or account and phone prefixes), or a common
        # fragment.
        return None
    return [LookupPoint(*row[3:]) for row in rows if row[2]], bool(rows[0][1])


def _fetch_with_settings(
    set_sql: str, set_params: list[Any], sql: str, params: list[Any]
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` run under the transaction-local settings ``set_sql`` makes, which
    end with it."""
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Inside a transaction: a savepoint rolled back takes the settings away again.
            with transaction.atomic():
                cursor.execute(set_sql, set_params)
                cursor.execute(sql, params)
                rows = cursor.fetchall()
                transaction.set_rollback(True)
        else:
            # One round trip: the statements of one simple query run in one implicit
            # transaction, so the transaction-local settings hold for ``sql`` and end with it.
            cursor.execute(f"{set_sql}; {sql}", [*set_params, *params])
            rows = cursor.fetchall()
    return rows


class _Index(Enum):
    UNSURE = "unsure"


# The indexed look-up's one statement, prepared once per connection and run with its generic
# plan (planning it cost five times running it): the index's version, whether a place is
# called the fragment, and the matches' columns in any order.
_INDEXED = "outages_lookup_indexed_points"
_PREPARE_INDEXED = (
    f"PREPARE {_INDEXED} (bigint[], text, timestamptz, timestamptz) AS"  # noqa: S608
    f" SELECT ({VERSION_SQL}), EXISTS (SELECT 1 FROM grids_place pl WHERE pl.name = $2),"
    f" {_point_columns('$3', '$4')} FROM grids_servicepoint top"
    " LEFT JOIN grids_district d ON d.id = top.district_id WHERE top.id = ANY($1)"
)
_GENERIC_PLAN = settings_sql({"plan_cache_mode": "force_generic_plan"})
# The connections (the driver's, which a reconnection replaces) holding that statement.
_prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()


def _indexed_points(
    q: str, limit: int
) -> tuple[list[LookupPoint], bool] | None | Literal[_Index.UNSURE]:
    """``lookup_points``' answer from the address index (None, as from the probe, when
    nothing is found or the fragment is common); ``UNSURE`` when the index cannot say (there
    is none, or it is older than the database): then the database is searched."""
    found = indexed_matches(q, limit)
    if found is None:
        return _Index.UNSURE
    with connection.cursor() as cursor:
        if not found.ids:
            cursor.execute(VERSION_SQL)
            row = cursor.fetchone()
            seen = None if row is None else row[0]
            if seen != found.version:
                index_outdated(seen)
                return _Index.UNSURE
            return None
        if connection.connection not in _prepared_on:
            cursor.execute(_PREPARE_INDEXED)
            _prepared_on.add(connection.connection)
    now = timezone.now()
    try:
        # The generic plan: PostgreSQL would otherwise plan each execution for its ids.
        rows = _fetch_with_settings(
            *_GENERIC_PLAN,
            f"EXECUTE {_INDEXED} (%s, %s, %s, %s)",
            [found.ids, found.fragment, now + timedelta(days=PLANNED_DAYS), now],
        )
    except DatabaseError:
        # The session lost the statement (DEALLOCATE, a pooler) or its plan (the tables
        # changed): prepared again next time; this look-up searches the database.
        _prepared_on.discard(connection.connection)
        return _Index.UNSURE
    seen = rows[0][0] if rows else None
    if seen != found.version or len(rows) != len(found.ids):
        index_outdated(seen)
        return _Index.UNSURE
    by_id = {row[2]: LookupPoint(*row[2:]) for row in rows}
    return [by_id[pk] for pk in found.ids], bool(rows[0][1])


def lookup_points_by_id(ids: list[int]) -> list[LookupPoint]:
    """``lookup_points``' columns for the service points ``ids``, in that order."""
    if not ids:
        return []
    ids_in, id_params = _in(ids)
    sql = (
        f"SELECT {_POINT_COLUMNS} FROM grids_servicepoint top"  # noqa: S608
        f" LEFT JOIN grids_district d ON d.id = top.district_id WHERE top.id {ids_in}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_point_params(timezone.now()), *id_params])
        found = {row[0]: LookupPoint(*row) for row in cursor.fetchall()}
    return [found[pk] for pk in ids if pk in found]


def lookup_outages(ids: list[int]) -> dict[int, LookupOutage]:
    """The outages ``ids`` with what the public answer shows, by id."""
    if not ids:
        return {}
    kinds = [OutageEvent.Kind.CREATED, OutageEvent.Kind.STATUS_CHANGED]
    ids_in, id_params = _in(ids)
    kinds_in, kind_params = _in(kinds)
    events = (
        f"FROM outages_outageevent e WHERE e.outage_id = o.id AND e.kind {kinds_in}"  # noqa: S608
        " AND e.to_status <> '' ORDER BY e.at, e.id"
    )
    postgres = connection.vendor == "postgresql"
    # Elsewhere (the SQLite demo) no ARRAY(): the progress comes in a second statement.
    progress = (
        f"ARRAY(SELECT e.to_status {events}), ARRAY(SELECT e.at {events})" if postgres else "1, 1"
    )
    sql = (
        "SELECT o.id, c.code, t.name, t.name_en, t.code, o.status, ca.name, ca.name_en,"  # noqa: S608
        f" ca.code, o.started_at, o.etr, o.customers_affected, {progress}"
        " FROM outages_outage o JOIN outages_outagetype t ON t.id = o.type_id"
        " JOIN outages_outagecategory c ON c.id = t.category_id"
        f" LEFT JOIN outages_outagecause ca ON ca.id = o.cause_id WHERE o.id {ids_in}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*kind_params, *kind_params, *id_params] if postgres else id_params)
        rows = cursor.fetchall()
        if postgres:
            return {row[0]: LookupOutage(*row) for row in rows}
        cursor.execute(
            "SELECT e.outage_id, e.to_status, e.at FROM outages_outageevent e"  # noqa: S608
            f" WHERE e.outage_id {ids_in} AND e.kind {kinds_in} AND e.to_status <> ''"
            " ORDER BY e.at, e.id",
            [*id_params, *kind_params],
        )
        steps: dict[int, list[tuple[str, datetime]]] = {pk: [] for pk in ids}
        for outage_id, status, at in cursor.fetchall():
            steps[outage_id].append((status, at))
    return {
        row[0]: LookupOutage._make(
            (
                *row[:9],
                _aware(row[9]),
                _aware(row[10]),
                row[11],
                [status for status, _ in steps[row[0]]],
                [_aware(at) for _, at in steps[row[0]]],
            )
        )
        for row in rows
    }


def _aware(value: Any) -> Any:
    """A timestamp as PostgreSQL gives it (aware) from SQLite's (naive UTC, or text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=UTC)
    return value


def lookup_planned(service_point_ids: list[int]) -> dict[int, list[LookupPlanned]]:
    """The published planned outages of each service point, soonest first."""
    out: dict[int, list[LookupPlanned]] = {pk: [] for pk in service_point_ids}
    if not service_point_ids:
        return out
    now = timezone.now()
    ids_in, id_params = _in(service_point_ids)
    statuses_in, status_params = _in(list(PUBLISHED_PLANNED))
    sql = (
        "SELECT i.service_point_id, o.id, o.planned_start_at, o.planned_end_at, o.description,"  # noqa: S608
        " t.name, t.name_en FROM outages_outage o"
        " JOIN outages_interruption i ON i.outage_id = o.id"
        " JOIN outages_outagetype t ON t.id = o.type_id"
        f" WHERE i.service_point_id {ids_in} AND o.planned_start_at IS NOT NULL"
        " AND o.planned_start_at <= %s AND o.planned_end_at >= %s"
        f" AND o.status {statuses_in} ORDER BY o.planned_start_at, o.id"
    )
    params: list[Any] = [*id_params, now + timedelta(days=PLANNED_DAYS), now, *status_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            out[row[0]].append(
                LookupPlanned._make((*row[:2], _aware(row[2]), _aware(row[3]), *row[4:]))
            )
    return out
