"""Subscribers of the outages app's domain events (subscribed in ``OutagesConfig.ready()``).

Each enqueues ``notifications_queue_task``, which writes the outbox rows of the change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from outages.notifications.messages import KIND_ETR, KIND_NOTICE, KIND_RESTORED

if TYPE_CHECKING:
    from outages.events import DomainEvent


def on_etr_changed(event: DomainEvent) -> None:
    """Subscriber of ``outage.etr_changed``: queue the subscribers' messages (a task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notifications_queue_task

    enqueue_on_commit(
        notifications_queue_task, event.payload["outage_id"], KIND_ETR, event.payload.get("etr")
    )


def on_restored(event: DomainEvent) -> None:
    """Subscriber of ``outage.restored``: queue the restoration messages (a task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notifications_queue_task

    enqueue_on_commit(notifications_queue_task, event.payload["outage_id"], KIND_RESTORED, None)


def on_notice_published(event: DomainEvent) -> None:
    """Subscriber of ``outage.notice_published``: send the notice to the customers the
    planned outage affects (a task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notifications_queue_task

    enqueue_on_commit(notifications_queue_task, event.payload["outage_id"], KIND_NOTICE, None)
