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

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from grids.selectors.lookup import (
    ACCOUNT_ORDER_BY,
    ORDER_BY,
    account_probe,
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
# ``district_id``): the outage is the one ``outage_for_service_point`` picks.
_POINT_COLUMNS = """
    top.id, top.address, top.lat, top.lng, d.name, d.name_en,
    (SELECT i.outage_id FROM outages_interruption i
       JOIN outages_outage o ON o.id = i.outage_id
      WHERE i.service_point_id = top.id AND i.started_at IS NOT NULL AND i.ended_at IS NULL
        AND o.status = ANY(%s)
      ORDER BY o.depth DESC, i.already_out_in_id ASC NULLS FIRST, i.started_at, i.id
      LIMIT 1),
    EXISTS (SELECT 1 FROM outages_interruption pi
       JOIN outages_outage po ON po.id = pi.outage_id
      WHERE pi.service_point_id = top.id AND po.planned_start_at IS NOT NULL
        AND po.planned_start_at <= %s AND po.planned_end_at >= %s AND po.status = ANY(%s))
"""


def _point_params(now: datetime) -> list[Any]:
    return [
        sorted(Outage.ACTIVE),
        now + timedelta(days=PLANNED_DAYS),
        now,
        list(PUBLISHED_PLANNED),
    ]


def lookup_points(q: str, limit: int) -> tuple[list[LookupPoint], bool] | None:
    """The matches of ``q`` as ``service_point_search`` ranks them, in one statement, and
    whether a gazetteer place is called exactly ``q`` (``place_named`` would find one); None
    when the probe cannot answer (then: ``service_point_search`` and ``lookup_points_by_id``).
    """
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
            # transaction, so the transaction-local settings hold for the search and end with it.
            cursor.execute(f"{set_sql}; {sql}", [*set_params, *params])
            rows = cursor.fetchall()
    if not rows or rows[0][0] > PROBE_CAP:
        # Nothing found (then: similarity, or account and phone prefixes), or a common
        # fragment.
        return None
    return [LookupPoint(*row[3:]) for row in rows if row[2]], bool(rows[0][1])


def lookup_points_by_id(ids: list[int]) -> list[LookupPoint]:
    """``lookup_points``' columns for the service points ``ids``, in that order."""
    if not ids:
        return []
    sql = (
        f"SELECT {_POINT_COLUMNS} FROM grids_servicepoint top"  # noqa: S608
        " LEFT JOIN grids_district d ON d.id = top.district_id WHERE top.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_point_params(timezone.now()), list(ids)])
        found = {row[0]: LookupPoint(*row) for row in cursor.fetchall()}
    return [found[pk] for pk in ids if pk in found]


def lookup_outages(ids: list[int]) -> dict[int, LookupOutage]:
    """The outages ``ids`` with what the public answer shows, by id."""
    if not ids:
        return {}
    kinds = [OutageEvent.Kind.CREATED, OutageEvent.Kind.STATUS_CHANGED]
    events = (
        "FROM outages_outageevent e WHERE e.outage_id = o.id AND e.kind = ANY(%s)"
        " AND e.to_status <> '' ORDER BY e.at, e.id"
    )
    sql = (
        "SELECT o.id, c.code, t.name, t.name_en, t.code, o.status, ca.name, ca.name_en,"  # noqa: S608
        " ca.code, o.started_at, o.etr, o.customers_affected,"
        f" ARRAY(SELECT e.to_status {events}), ARRAY(SELECT e.at {events})"
        " FROM outages_outage o JOIN outages_outagetype t ON t.id = o.type_id"
        " JOIN outages_outagecategory c ON c.id = t.category_id"
        " LEFT JOIN outages_outagecause ca ON ca.id = o.cause_id WHERE o.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kinds, kinds, list(ids)])
        return {row[0]: LookupOutage(*row) for row in cursor.fetchall()}


def lookup_planned(service_point_ids: list[int]) -> dict[int, list[LookupPlanned]]:
    """The published planned outages of each service point, soonest first."""
    out: dict[int, list[LookupPlanned]] = {pk: [] for pk in service_point_ids}
    if not service_point_ids:
        return out
    now = timezone.now()
    sql = (
        "SELECT i.service_point_id, o.id, o.planned_start_at, o.planned_end_at, o.description,"
        " t.name, t.name_en FROM outages_outage o"
        " JOIN outages_interruption i ON i.outage_id = o.id"
        " JOIN outages_outagetype t ON t.id = o.type_id"
        " WHERE i.service_point_id = ANY(%s) AND o.planned_start_at IS NOT NULL"
        " AND o.planned_start_at <= %s AND o.planned_end_at >= %s AND o.status = ANY(%s)"
        " ORDER BY o.planned_start_at, o.id"
    )
    params: list[Any] = [list(service_point_ids), now + timedelta(days=PLANNED_DAYS), now]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, list(PUBLISHED_PLANNED)])
        for row in cursor.fetchall():
            out[row[0]].append(LookupPlanned(*row))
    return out
