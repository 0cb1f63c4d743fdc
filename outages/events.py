"""Domain events of the outages app: the one sanctioned path from ``outages`` up to higher apps.

``outages`` may not import ``workorders`` or ``complaints``; when an outage change must start
work there, a service calls ``publish(name, **ids)``. Delivery happens after the surrounding
transaction commits (``transaction.on_commit``), never on rollback, so a subscriber never sees
an outage that does not exist. Higher apps call ``subscribe(name, handler)`` in their
``AppConfig.ready()``. Payloads carry ids and JSON primitives only: subscribers reload what they
need, and a payload can be handed to a Celery task unchanged.

Handlers run in the committing thread, one after the other; keep them thin (enqueue a task
with ``enqueue_on_commit``). A failing handler is logged and does not stop the others.

The events (name: payload):

- ``outage.predicted``: ``outage_id`` — the roll-up (or a nested call) predicted an outage.
- ``outage.confirmed``: ``outage_id`` — confirmed by a dispatcher, SCADA or a crew, or created
  confirmed. A work order should exist once either of these two has been seen.
- ``outage.scheduled``: ``outage_id`` — a planned / temporary outage was created.
- ``outage.notice_published``: ``outage_id`` — its notice is out (customer notifications).
- ``outage.status_changed``: ``outage_id``, ``from_status``, ``to_status``, ``event_id``.
- ``outage.etr_changed``: ``outage_id``, ``etr`` (ISO 8601 or null), ``previous`` (same).
- ``outage.restored``: ``outage_id`` — every customer of the outage has supply again.
- ``outage.customers_changed``: ``outage_id``, ``customers_affected``, ``customers_restored``.
- ``outage.changed``: ``outage_id``, ``version`` — anything visible changed (the public map's
  hook; every service that bumps ``Outage.version`` publishes it).
- ``report.needs_premise_visit``: ``report_id``, ``service_point_id`` (published by the intake).
- ``report.danger``: ``report_id`` — sparks or a wire down reported (published by the intake).
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

OUTAGE_PREDICTED = "outage.predicted"
OUTAGE_CONFIRMED = "outage.confirmed"
OUTAGE_SCHEDULED = "outage.scheduled"
OUTAGE_NOTICE_PUBLISHED = "outage.notice_published"
OUTAGE_STATUS_CHANGED = "outage.status_changed"
OUTAGE_ETR_CHANGED = "outage.etr_changed"
OUTAGE_RESTORED = "outage.restored"
OUTAGE_CUSTOMERS_CHANGED = "outage.customers_changed"
OUTAGE_CHANGED = "outage.changed"
REPORT_NEEDS_PREMISE_VISIT = "report.needs_premise_visit"
REPORT_DANGER = "report.danger"

EVENTS = frozenset(
    {
        OUTAGE_PREDICTED,
        OUTAGE_CONFIRMED,
        OUTAGE_SCHEDULED,
        OUTAGE_NOTICE_PUBLISHED,
        OUTAGE_STATUS_CHANGED,
        OUTAGE_ETR_CHANGED,
        OUTAGE_RESTORED,
        OUTAGE_CUSTOMERS_CHANGED,
        OUTAGE_CHANGED,
        REPORT_NEEDS_PREMISE_VISIT,
        REPORT_DANGER,
    }
)

_PRIMITIVES = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class DomainEvent:
    """A published event as a subscriber receives it."""

    name: str
    payload: Mapping[str, Any]
    published_at: Any = field(default_factory=timezone.now)


Handler = Callable[[DomainEvent], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> None:
    """Call ``handler(event)`` after each commit that published ``name``.

    Subscribing the same handler twice is a no-op (``ready()`` may run more than once).
    """
    _check_name(name)
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    """Stop calling ``handler`` for ``name`` (tests use it to clean up)."""
    _check_name(name)
    if handler in _subscribers[name]:
        _subscribers[name].remove(handler)


def subscribers(name: str) -> tuple[Handler, ...]:
    """The handlers subscribed to ``name`` (for diagnostics, tests and benchmarks)."""
    _check_name(name)
    return tuple(_subscribers.get(name, ()))


def publish(name: str, /, **payload: Any) -> None:
    """Deliver event ``name`` with ``payload`` to its subscribers once the transaction commits.

    Outside a transaction it is delivered at once. Raises ``ValueError`` for an unknown name
    and ``TypeError`` for a payload value that is not a JSON primitive (or a list of them):
    model instances must not travel in events.
    """
    _check_name(name)
    for key, value in payload.items():
        values = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(v, _PRIMITIVES) for v in values):
            raise TypeError(f"Event {name}: {key}={value!r} is not a JSON primitive.")
    event = DomainEvent(name=name, payload=MappingProxyType(dict(payload)))
    transaction.on_commit(functools.partial(_deliver, event))


def _deliver(event: DomainEvent) -> None:
    for handler in tuple(_subscribers.get(event.name, ())):
        try:
            handler(event)
        except Exception:
            # The transaction is already committed; one broken subscriber must not keep the
            # others (or the caller's response) from going ahead.
            logger.exception("Subscriber %r of %s failed", handler, event.name)


def _check_name(name: str) -> None:
    if name not in EVENTS:
        raise ValueError(f"Unknown domain event {name!r}; see outages.events.")
