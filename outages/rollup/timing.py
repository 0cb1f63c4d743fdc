"""The engine's edge in time: checks report times and picks the reports that are live.

Calls of one fault keep arriving for a while (delays are roughly exponential, a mean of about
ten minutes), and unrelated calls arrive at any time. A window that trails the latest call
pushes a fault's own early calls out as soon as one late stray call comes in, so the window is
anchored on the calls instead: reports are grouped in time clusters (a silence longer than half
the window separates two), and a whole cluster stays live as long as its latest call is within
the window. Reports dated after ``now`` are ignored and counted; a report given twice counts
once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .types import Report, ReportId


class NaiveTimeError(ValueError):
    """A report time (or ``now``) without a time zone: the engine compares aware times only."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} has no time zone; the roll-up engine needs aware datetimes "
            "(e.g. django.utils.timezone.now(), or datetime(..., tzinfo=...))"
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """Reports split by time: live (in input order), stale, future, duplicates dropped."""

    live: list[Report]
    stale: list[ReportId]
    future: list[ReportId]
    duplicates: int


def _aware(at: datetime) -> bool:
    return at.tzinfo is not None and at.tzinfo.utcoffset(at) is not None


def select_live(reports: Iterable[Report], *, now: datetime | None, window: timedelta) -> Selection:
    """Check, de-duplicate and window ``reports`` (see the module docstring).

    ``now`` None: the latest report. Raises :class:`NaiveTimeError` on a naive time.
    """
    unique: list[Report] = []
    seen: set[object] = set()
    duplicates = 0
    for report in reports:
        if not _aware(report.at):
            raise NaiveTimeError(f"report {report.id!r} time {report.at.isoformat()}")
        if report.id in seen:
            duplicates += 1
            continue
        seen.add(report.id)
        unique.append(report)
    if now is not None and not _aware(now):
        raise NaiveTimeError(f"now {now.isoformat()}")
    if not unique:
        return Selection([], [], [], duplicates)
    if now is None:
        now = max(r.at for r in unique)
    future = [r.id for r in unique if r.at > now]
    present = [r for r in unique if r.at <= now]
    live_ids = _live_clusters(present, now=now, window=window)
    live = [r for r in present if r.id in live_ids]
    stale = [r.id for r in present if r.id not in live_ids]
    return Selection(live, stale, future, duplicates)


def _live_clusters(reports: list[Report], *, now: datetime, window: timedelta) -> set[ReportId]:
    """Ids of the reports whose time cluster reaches into the window.

    Nothing older than two windows is live, however long a storm's calls keep coming.
    """
    horizon = now - 2 * window
    recent = now - window
    gap = window / 2
    ordered = sorted((r for r in reports if r.at >= horizon), key=lambda r: r.at)
    live: set[ReportId] = set()
    cluster: list[Report] = []
    for report in ordered:
        if cluster and report.at - cluster[-1].at > gap:
            if cluster[-1].at >= recent:
                live.update(r.id for r in cluster)
            cluster = []
        cluster.append(report)
    if cluster and cluster[-1].at >= recent:
        live.update(r.id for r in cluster)
    return live
