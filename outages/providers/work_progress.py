"""The repair work on an outage as staff see it: a hook that a higher app fills in.

Work orders and crews live in ``workorders``, which ``outages`` may not import (DESIGN.md §2).
The public snapshot still shows whether a crew is on an outage, and the hotline agent's page
shows the order's progress and the crew's ETA, so the higher app registers providers in its
``AppConfig.ready()``::

    from outages.providers import work_progress

    work_progress.register(crew_statuses=..., progress=...)

The contract is typed, so mypy checks the registration in the higher app:

- ``crew_statuses`` is a ``CrewStatusesProvider``: ``(outage_ids) -> {outage_id: status}``,
  one call for many outages (the snapshot); ``status`` is one of the public crew states of
  ``outages.views.public.CREW_STATUS_LABELS`` (``dispatched``, ``en_route``, ``on_site``...).
- ``progress`` is a ``ProgressProvider``: ``(outage_id) -> OutageWork | None``, the live
  repair order of one outage.

Until a provider is registered, every outage has no crew (``None``): the snapshot and the
agent's page say so instead of failing. A failing provider is logged and treated the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, TypedDict

logger = logging.getLogger(__name__)


class WorkStep(TypedDict):
    """One line of the repair order's timeline, ready to show."""

    at: datetime
    label: str
    note: str


class OutageWork(TypedDict):
    """The repair order of an outage, for staff (never for a public answer as it is).

    ``crew_status`` uses the public crew state codes; ``eta`` is the crew's expected arrival
    (``None`` once on site or without a crew); ``arrive_due_at`` the service commitment.
    """

    order_id: int
    status: str
    status_label: str
    crew: str | None
    crew_status: str | None
    eta: datetime | None
    arrived_at: datetime | None
    arrive_due_at: datetime | None
    sla_state: str
    sla_state_label: str
    steps: list[WorkStep]


class CrewStatusesProvider(Protocol):
    """Answers the public crew state of the outages that have a crew, in one call.

    Called with the ids of many outages; returns ``{outage_id: status}`` for those with a
    crew (others left out), ``status`` a public crew state code. Reads only.
    """

    def __call__(self, outage_ids: list[int], /) -> Mapping[int, str]: ...


class ProgressProvider(Protocol):
    """Answers the live repair order of one outage as ``OutageWork``, or None. Reads only."""

    def __call__(self, outage_id: int, /) -> OutageWork | None: ...


_crew_statuses: list[CrewStatusesProvider] = []
_progress: list[ProgressProvider] = []


def register(
    *,
    crew_statuses: CrewStatusesProvider | None = None,
    progress: ProgressProvider | None = None,
) -> None:
    """Add providers; registering the same one twice is a no-op (``ready()`` may rerun)."""
    if crew_statuses is not None and crew_statuses not in _crew_statuses:
        _crew_statuses.append(crew_statuses)
    if progress is not None and progress not in _progress:
        _progress.append(progress)


def unregister(
    *,
    crew_statuses: CrewStatusesProvider | None = None,
    progress: ProgressProvider | None = None,
) -> None:
    """Remove providers (tests use it to clean up)."""
    if crew_statuses is not None and crew_statuses in _crew_statuses:
        _crew_statuses.remove(crew_statuses)
    if progress is not None and progress in _progress:
        _progress.remove(progress)


def crew_statuses(outage_ids: list[int]) -> dict[int, str]:
    """``{outage_id: crew status}`` for the outages that have a crew; the first provider
    that knows an outage wins."""
    found: dict[int, str] = {}
    if not outage_ids:
        return found
    for provider in tuple(_crew_statuses):
        missing = [pk for pk in outage_ids if pk not in found]
        if not missing:
            break
        try:
            answer = provider(missing)
        except Exception:
            logger.exception("Crew status provider %r failed", provider)
            continue
        for pk, status in (answer or {}).items():
            if status and pk not in found:
                found[int(pk)] = str(status)
    return found


def progress_for_outage(outage_id: int) -> OutageWork | None:
    """The repair order of ``outage_id`` from the first provider that has one, or None."""
    for provider in tuple(_progress):
        try:
            answer = provider(outage_id)
        except Exception:
            logger.exception("Work progress provider %r failed for outage %s", provider, outage_id)
            continue
        if answer:
            return answer
    return None
