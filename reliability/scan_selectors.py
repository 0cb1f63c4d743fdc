"""The full scan's reads that compare in bulk: the open alerts against the scan's results,
in the database, and the session the scan's queries run in (see
``services.frequent_outage_scan_now``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction

from reliability.models import FrequentOutageAlert


def open_alerts_differing(*, wanted: Sequence[tuple[str, str, list[int]]]) -> set[int]:
    """The full scan's bulk comparison, in the database: the service points whose open
    alerts differ from ``wanted``, a list of ``(level, content digest, service point ids)``
    holding every customer found warning or frequent (the digest as
    ``FrequentOutageAlert.content_digest`` stores it). A customer differs when it lacks an
    open alert at its level with that digest, or has an open alert at another level or with
    another digest, or has one and is not in ``wanted`` (it is normal now). One query on
    narrow rows; in the steady state it returns nothing."""
    groups = list(enumerate(wanted))
    members = [(sp, g) for g, (_level, _digest, sp_ids) in groups for sp in sp_ids]
    params: dict[str, Any] = {
        "g": [g for g, _w in groups],
        "level": [level for _g, (level, _d, _s) in groups],
        "digest": [digest for _g, (_l, digest, _s) in groups],
        "sp": _int_array(sp for sp, _g in members),
        "sg": _int_array(g for _sp, g in members),
        "open": FrequentOutageAlert.Status.OPEN,
    }
    sql = f"""
        WITH want AS (
            SELECT * FROM unnest(%(g)s::int[], %(level)s::text[], %(digest)s::text[])
                AS w(g, level, digest)
        ), wanted AS (
            SELECT m.sp, w.level, w.digest
            FROM unnest(%(sp)s::bigint[], %(sg)s::int[]) AS m(sp, g) JOIN want w USING (g)
        ), alert AS (
            SELECT service_point_id AS sp, level::text, content_digest AS digest
            FROM {FrequentOutageAlert._meta.db_table} WHERE status = %(open)s
        )
        SELECT DISTINCT coalesce(a.sp, w.sp)
        FROM alert a
        FULL JOIN wanted w ON w.sp = a.sp AND w.level = a.level AND w.digest = a.digest
        WHERE a.sp IS NULL OR w.sp IS NULL
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {sp for (sp,) in cursor.fetchall()}


def _int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers: one short string to parse, where a list would
    be sent as an ``ARRAY[...]`` expression of as many constants."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


@contextmanager
def scan_session() -> Iterator[None]:
    """One transaction for the full scan's reads, planned for them: no JIT compilation (it
    took longer than the queries it compiled) and room for their hash tables and sorts in
    memory (else they spill to disk at a million customers)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        yield
