"""Closed repair orders at a premise and their return visits: a hook the work-orders app fills.

The hotline agent's page (``outages.views.agent``) calls the customer back after the work
and records whether they were satisfied, but work orders live in ``workorders``, which
``outages`` may not import (DESIGN.md §2). The higher app registers a provider in its
``AppConfig.ready()``::

    from outages.providers import return_visits

    return_visits.register(closed_orders_for_service_point)  # a ClosedOrdersProvider

and serves the form's POST itself (``workorders.agent_views``). Until a provider is
registered the page shows no closed orders.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol, TypedDict

logger = logging.getLogger(__name__)


class VisitEntry(TypedDict):
    """The return visit recorded on a closed order: who, when, satisfied or not, the note."""

    agent: str
    at: datetime
    satisfied: bool
    note: str


class ClosedOrder(TypedDict):
    """A closed order that concerned a premise, ready to show; ``visit`` once recorded."""

    order_id: int
    title: str
    kind_label: str
    crew: str | None
    closed_at: datetime | None
    visit: VisitEntry | None


class ClosedOrdersProvider(Protocol):
    """Answers the recently closed orders that concerned one service point, newest first
    (its own premise orders and the repairs of outages that had it out). Reads only."""

    def __call__(self, service_point_id: int, /) -> list[ClosedOrder]: ...


_providers: list[ClosedOrdersProvider] = []


def register(provider: ClosedOrdersProvider) -> None:
    """Add ``provider``; registering it twice is a no-op (``ready()`` may rerun)."""
    if provider not in _providers:
        _providers.append(provider)


def unregister(provider: ClosedOrdersProvider) -> None:
    """Remove ``provider`` (tests use it to clean up)."""
    if provider in _providers:
        _providers.remove(provider)


def closed_orders_for_service_point(service_point_id: int) -> list[ClosedOrder]:
    """The closed orders of ``service_point_id`` from the first provider that has any. A
    failing provider is logged and skipped: the agent's page shows the rest."""
    for provider in tuple(_providers):
        try:
            found = provider(service_point_id)
        except Exception:
            logger.exception("Closed orders provider %r failed for %s", provider, service_point_id)
            continue
        if found:
            return list(found)
    return []
