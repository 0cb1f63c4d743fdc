"""Reads for the trouble report intake and the public API. Relations are loaded up front."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from grids.models import ServicePoint
from grids.selectors import PremiseQuery
from outages.models import Interruption, Outage, OutageEvent, TroubleReport
from outages.providers import public_crew

_REPORT_RELATED = ("outage__type__category", "outage__cause", "service_point")
# How old the per-process copies of a merged call's answer may be (``outage_for_report``,
# ``outage_answer_parts``): the outage row and its progress are exact for the version read
# with the premise; the taxonomy names on it (type, category, cause: edited without a
# version bump) and the crew (its own app's rows) may lag by these many seconds.
TAXONOMY_MAX_AGE = 10.0
CREW_MAX_AGE = 2.0
_ANSWERS_MAX = 512


@dataclass(frozen=True, slots=True)
class PremiseInterruption:
    """One interruption of a premise in an active outage or a restored one."""

    ended_at: datetime | None
    outage_id: int
    outage_status: str
    outage_version: int


def premises_with_interruptions(
    *, query: PremiseQuery
) -> list[tuple[ServicePoint, list[PremiseInterruption]]]:
    """The service points ``query`` finds, each with its started interruptions in active or
    restored outages, in one round trip.

    The interruptions come in ``outage_for_service_point``'s order (innermost nested first,
    then the one that cut the customer off first); the premises in id order. A premise that
    ``query`` drops (a nearest one beyond its radius) is left out. Plain SQL on purpose: it
    runs for every call of a storm, and building this join through the ORM costs several
    times the query (``bench/intake_throughput.py``). grids' part is ``query``'s own SQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(_premises_sql(query.sql, query.columns), list(query.params))
        rows = cursor.fetchall()
    found: list[tuple[ServicePoint, list[PremiseInterruption]]] = []
    by_id: dict[Any, list[PremiseInterruption]] = {}
    width = query.columns
    for row in rows:
        pk = row[0]
        if pk not in by_id:
            premise = query.premise(row)
            if premise is None:
                continue
            by_id[pk] = []
            found.append((premise, by_id[pk]))
        ended_at, outage_id, status, version = row[width : width + 4]
        if outage_id is None:
            continue  # no interruption (LEFT JOIN)
        if ended_at is not None and timezone.is_naive(ended_at):  # SQLite
            ended_at = timezone.make_aware(ended_at, UTC)
        by_id[pk].append(PremiseInterruption(ended_at, outage_id, status, version))
    return found


@cache
def _premises_sql(premise_sql: str, columns: int) -> str:
    def i_col(name: str) -> str:
        return _col(Interruption, name)

    def o_col(name: str) -> str:
        return _col(Outage, name)

    statuses = ", ".join(f"'{s}'" for s in sorted({*Outage.ACTIVE, Outage.Status.RESTORED}))
    outage_fk = i_col("outage")
    # Only quoted names from the models and the statuses' codes are interpolated; the values
    # go as parameters. The order is outage_for_service_point's: -depth, already_out_in
    # nulls first, started_at, pk.
    return (
        f"WITH p AS ({premise_sql}) "  # noqa: S608
        f"SELECT p.*, i.{i_col('ended_at')}, i.{outage_fk}, o.{o_col('status')}, "
        f"o.{o_col('version')} FROM p LEFT JOIN ({_table(Interruption)} i "
        f"JOIN {_table(Outage)} o ON o.{o_col('id')} = i.{outage_fk} "
        f"AND o.{o_col('status')} IN ({statuses})) "
        f"ON i.{i_col('service_point')} = p.{_col(ServicePoint, 'id')} "
        f"AND i.{i_col('started_at')} IS NOT NULL "
        f"ORDER BY p.{_col(ServicePoint, 'id')}, o.{o_col('depth')} DESC, "
        f"i.{i_col('already_out_in')} ASC NULLS FIRST, i.{i_col('started_at')} ASC, "
        f"i.{i_col('id')} ASC"
    )


def _col(model: Any, name: str) -> str:
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


# --- a merged call's answer, per process ---------------------------------------------------


@dataclass(slots=True)
class _Answer:
    outage: Outage
    loaded: float
    progress: list[tuple[str, datetime]] | None = None
    crew: public_crew.PublicCrew | None = None
    crew_loaded: float = float("-inf")


_answers: dict[int, _Answer] = {}


def outage_for_report(*, outage_id: int, version: int | None = None) -> Outage:
    """``outage_get_for_report``, from this process's copy when it is of ``version`` and at
    most ``TAXONOMY_MAX_AGE`` seconds old; ``DoesNotExist``.

    A storm merges many calls into a few outages: the version read with the premise
    (``premises_with_interruptions``) tells whether the copy is current, so a merged call
    costs no query for its outage. Every change of an outage bumps its version, so the
    outage's own fields are never stale; the names of its type, category and cause (edited
    in the admin without a bump) may be ``TAXONOMY_MAX_AGE`` seconds old. The instance is
    shared: read it, never change it.
    """
    now = time.monotonic()
    entry = _answers.get(outage_id)
    if (
        version is not None
        and entry is not None
        and entry.outage.version == version
        and now - entry.loaded <= TAXONOMY_MAX_AGE
    ):
        return entry.outage
    outage = outage_get_for_report(outage_id=outage_id)
    _remember(_Answer(outage, now))
    return outage


def outage_answer_parts(
    outage: Outage,
) -> tuple[list[tuple[str, datetime]], public_crew.PublicCrew | None]:
    """(``outage_public_progress``, ``public_crew.crew_for_outage``) of ``outage`` from this
    process's copy: the progress is exact for ``outage.version`` (a step always bumps it),
    the crew at most ``CREW_MAX_AGE`` seconds old. For the answer to a call just filed."""
    now = time.monotonic()
    entry = _answers.get(outage.pk)
    if (
        entry is None
        or entry.outage.version != outage.version
        or now - entry.loaded > TAXONOMY_MAX_AGE
    ):
        entry = _remember(_Answer(outage, now))
    if entry.progress is None:
        entry.progress = outage_public_progress(outage_id=outage.pk)
    if now - entry.crew_loaded > CREW_MAX_AGE:
        entry.crew, entry.crew_loaded = public_crew.crew_for_outage(outage.pk), now
    return entry.progress, entry.crew


def outage_answers_forget() -> None:
    """Drop this process's copies (tests)."""
    _answers.clear()


def _remember(entry: _Answer) -> _Answer:
    if len(_answers) >= _ANSWERS_MAX and entry.outage.pk not in _answers:
        _answers.clear()  # a bounded cache: a storm has a few outages, not hundreds
    _answers[entry.outage.pk] = entry
    return entry


def report_get_by_reference(*, reference: str) -> TroubleReport:
    """The report with this reference (and its outage); ``NotFound``."""
    report = (
        TroubleReport.objects.select_related(*_REPORT_RELATED).filter(reference=reference).first()
    )
    if report is None:
        raise NotFound(_("没有找到报修编号 %(reference)s。") % {"reference": reference})
    return report


def outage_get_for_report(*, outage_id: int) -> Outage:
    """The outage a report is placed in, with the relations a report's answers read (type and
    category, cause: as ``report_get`` loads them); ``DoesNotExist``."""
    return Outage.objects.select_related("type__category", "cause").get(pk=outage_id)


def report_get(*, report_id: int) -> TroubleReport:
    """One report by id (staff), with its service point and outage; ``NotFound``."""
    report = TroubleReport.objects.select_related(*_REPORT_RELATED).filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("报修 %(id)s 不存在。") % {"id": report_id})
    return report


def report_list(*, status: str | None = None) -> QuerySet[TroubleReport]:
    """Reports, newest first, optionally of one status (``needs_resolution`` for agents)."""
    qs = TroubleReport.objects.select_related(*_REPORT_RELATED).order_by("-received_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    return qs


def outage_public_progress(*, outage_id: int) -> list[tuple[str, datetime]]:
    """The statuses an outage went through, oldest first: ``[(status, at), ...]``."""
    return list(
        OutageEvent.objects.filter(
            outage_id=outage_id,
            kind__in=(OutageEvent.Kind.CREATED, OutageEvent.Kind.STATUS_CHANGED),
        )
        .exclude(to_status="")
        .order_by("at", "pk")
        .values_list("to_status", "at")
    )
