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
    given = now
    if now is None:
        now = max(r.at for r in unique)
    future = [r.id for r in unique if r.at > now]
    present = [r for r in unique if r.at <= now]
    clusters = _clusters(present, now=now, window=window)
    # Without a time of the run, the window ends with the biggest cluster of calls (the
    # earliest of equals), not with the latest call: one late stray call must not push a
    # fault's own calls out. Later clusters stay live too.
    end = given if given is not None else _biggest(clusters)[-1].at
    live_ids = {r.id for c in clusters if c[-1].at >= end - window for r in c}
    live = [r for r in present if r.id in live_ids]
    stale = [r.id for r in present if r.id not in live_ids]
    return Selection(live, stale, future, duplicates)


def _clusters(reports: list[Report], *, now: datetime, window: timedelta) -> list[list[Report]]:
    """Reports in time order cut where a silence exceeds half the window.

    Nothing older than two windows before ``now`` is in any, however long a storm's calls
    keep coming.
    """
    horizon = now - 2 * window
    gap = window / 2
    clusters: list[list[Report]] = []
    for report in sorted((r for r in reports if r.at >= horizon), key=lambda r: r.at):
        if clusters and report.at - clusters[-1][-1].at <= gap:
            clusters[-1].append(report)
        else:
            clusters.append([report])
    return clusters


def _biggest(clusters: list[list[Report]]) -> list[Report]:
    best = clusters[0]
    for cluster in clusters[1:]:
        if len(cluster) > len(best):
            best = cluster
    return best
