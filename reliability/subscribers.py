"""Handlers of the outages app's domain events (subscribed in ``ReliabilityConfig.ready``).

They only enqueue: the check runs on the ``analytics`` queue after the outage's commit.
"""

from __future__ import annotations

from dispatch_center.core.tasks import enqueue_on_commit
from outages.events import DomainEvent


def on_restoration(event: DomainEvent) -> None:
    """An outage restored some or all of its customers: check them for frequent outages."""
    from reliability.tasks import QUEUE, frequent_outage_check_outage_task

    payload = event.payload
    if event.name == "outage.customers_changed" and not payload.get("customers_restored"):
        return  # customers were added, none came back yet
    enqueue_on_commit(frequent_outage_check_outage_task, int(payload["outage_id"]), queue=QUEUE)
