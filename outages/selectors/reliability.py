"""Reads for the reliability app: interruptions for frequent-outage counting and indices."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from outages.models import Interruption, Outage, OutageCategory, OutageCause, OutageType
from outages.selectors.outages import outage_get

# --- Reads for the reliability app (frequent outages and indices) ---------------------------

RELIABILITY_INTERRUPTION_FIELDS = (
    "service_point_id",
    "started_at",
    "ended_at",
    "outage_id",
    "outage__type__category__code",
    "outage__type__code",
    "outage__type__counts_in_reliability",
    "outage__cause__code",
    "outage__service_point_id",
)


def interruptions_for_reliability(
    *,
    started_from: datetime,
    started_before: datetime,
    service_point_ids: Any = None,
) -> QuerySet[Interruption, dict[str, Any]]:
    """Started interruptions in ``[started_from, started_before)`` as plain dicts (the fields
    of ``RELIABILITY_INTERRUPTION_FIELDS``), for the reliability engines; optionally only
    those of ``service_point_ids`` (a list or a values queryset). Ordered by service point
    and start, so a caller can stream them one customer at a time."""
    qs = Interruption.objects.filter(
        started_at__isnull=False, started_at__gte=started_from, started_at__lt=started_before
    )
    if service_point_ids is not None:
        qs = qs.filter(service_point_id__in=service_point_ids)
    return qs.order_by("service_point_id", "started_at").values(*RELIABILITY_INTERRUPTION_FIELDS)


def interruption_service_point_ids_with_at_least(
    *,
    started_from: datetime,
    started_before: datetime,
    longer_than: timedelta,
    count: int,
    recent: tuple[tuple[datetime, int], ...] = (),
) -> QuerySet[Any, Any]:
    """Service points with ``count`` or more started interruptions in the window lasting more
    than ``longer_than`` (still-open ones included), or, for any ``(since, n)`` of ``recent``,
    ``n`` or more of them started since ``since``: a values queryset of ``service_point_id``
    (one GROUP BY), usable as a subquery."""
    qs = (
        Interruption.objects.filter(started_at__gte=started_from, started_at__lt=started_before)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + longer_than))
        .values("service_point_id")
        .annotate(
            n=Count("id"),
            **{
                f"r{i}": Count("id", filter=Q(started_at__gte=since))
                for i, (since, _n) in enumerate(recent)
            },
        )
    )
    having = Q(n__gte=count)
    for i, (_since, n) in enumerate(recent):
        having |= Q(**{f"r{i}__gte": n})
    return qs.filter(having).values("service_point_id")


def outage_service_point_ids(*, outage_id: int, ended_only: bool = False) -> list[int]:
    """The service points of an outage's interruptions (only those restored, if asked)."""
    qs = Interruption.objects.filter(outage_id=outage_id)
    if ended_only:
        qs = qs.filter(ended_at__isnull=False)
    return list(qs.values_list("service_point_id", flat=True).distinct())


def outage_for_reliability_preview(*, outage_id: int) -> Outage:
    """A (planned) outage with its category, for the frequent-outage preview; ``NotFound``."""
    return outage_get(outage_id=outage_id)


def interruption_histories(
    *,
    read_from: datetime,
    started_before: datetime,
    count_from: datetime,
    longer_than: timedelta,
    count: int,
    recent: tuple[tuple[datetime, int], ...] = (),
    chunk_size: int = 2000,
) -> Iterator[tuple[list[int], list[datetime], list[datetime | None], list[int]]]:
    """The histories of the service points that pass the raw prefilter of
    ``interruption_service_point_ids_with_at_least`` (same arguments, the window starting at
    ``count_from``), grouped by identical history, in one query.

    Yields ``(outage_ids, starts, ends, service_point_ids)``: the started interruptions in
    ``[read_from, started_before)`` that those service points share (three aligned lists,
    in start order), and the service points (ascending) whose history it is exactly. The
    customers of one transformer usually share their whole history (outages are switched on
    devices), so this is a few rows per transformer, not one per interruption."""
    table = Interruption._meta.db_table
    sustained = "(ended_at IS NULL OR ended_at > started_at + %(longer_than)s)"
    having = ["count(*) >= %(count)s"]
    params: dict[str, Any] = {
        "read_from": read_from,
        "started_before": started_before,
        "count_from": count_from,
        "longer_than": longer_than,
        "count": count,
    }
    for i, (since, n) in enumerate(recent):
        having.append(f"count(*) FILTER (WHERE started_at >= %(since{i})s) >= %(n{i})s")
        params[f"since{i}"], params[f"n{i}"] = since, n
    # The arrays of one group are filled from the same rows in the same order, so they stay
    # aligned; the start order (from the sorted subquery) only makes equal histories group
    # together, it is not needed for correctness (the counting sorts by start itself).
    # Only the table name and the placeholders' names are formatted in; values are parameters.
    sql = f"""
        WITH candidate AS (
            SELECT service_point_id FROM {table}
            WHERE started_at >= %(count_from)s AND started_at < %(started_before)s
              AND {sustained}
            GROUP BY service_point_id
            HAVING {" OR ".join(having)}
        ), history AS (
            SELECT h.service_point_id, array_agg(h.outage_id) AS outages,
                   array_agg(h.started_at) AS starts, array_agg(h.ended_at) AS ends
            FROM (
                SELECT i.service_point_id, i.outage_id, i.started_at, i.ended_at
                FROM {table} i JOIN candidate c USING (service_point_id)
                WHERE i.started_at >= %(read_from)s AND i.started_at < %(started_before)s
                ORDER BY i.service_point_id, i.started_at
            ) h
            GROUP BY h.service_point_id
        )
        SELECT outages, starts, ends, array_agg(service_point_id ORDER BY service_point_id)
        FROM history GROUP BY outages, starts, ends
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def outage_reliability_attributes(*, outage_ids: Iterable[int]) -> dict[int, tuple[Any, ...]]:
    """Per outage id, what the frequent-outage counting needs of it: ``(category code, type
    code, type counts in reliability, cause code, premise service point id)`` (one query,
    the ids passed as one array)."""
    sql = f"""
        SELECT o.id, c.code, t.code, t.counts_in_reliability, cause.code, o.service_point_id
        FROM {Outage._meta.db_table} o
        JOIN {OutageType._meta.db_table} t ON t.id = o.type_id
        JOIN {OutageCategory._meta.db_table} c ON c.id = t.category_id
        LEFT JOIN {OutageCause._meta.db_table} cause ON cause.id = o.cause_id
        WHERE o.id = ANY(%s::bigint[])
    """  # noqa: S608
    with connection.cursor() as cursor:
        # One array literal: a list would be sent as ARRAY[...] of as many constants.
        cursor.execute(sql, ["{" + ",".join(str(int(i)) for i in outage_ids) + "}"])
        return {pk: tuple(rest) for pk, *rest in cursor.fetchall()}
