"""App config of the work-orders app: subscribes to the outages app's domain events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from outages.events import DomainEvent


def on_outage_raised(event: DomainEvent) -> None:
    """An outage was predicted or confirmed: raise its one repair order (idempotent task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from workorders.tasks import work_order_raise_for_outage_task

    enqueue_on_commit(
        work_order_raise_for_outage_task, event.payload["outage_id"], queue="dispatch"
    )


def on_outage_status_changed(event: DomainEvent) -> None:
    """A cancelled outage cancels its unfinished repair orders."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.models import Outage
    from workorders.tasks import work_orders_outage_cancelled_task

    if event.payload.get("to_status") == Outage.Status.CANCELLED:
        enqueue_on_commit(work_orders_outage_cancelled_task, event.payload["outage_id"])


def on_outage_restored(event: DomainEvent) -> None:
    """Every customer is back: note it on the outage's open repair orders."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from workorders.tasks import work_orders_outage_restored_task

    enqueue_on_commit(work_orders_outage_restored_task, event.payload["outage_id"])


def on_report_needs_premise_visit(event: DomainEvent) -> None:
    """A lone report the roll-up did not explain: a single-premise repair order."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from workorders.models import WorkOrder
    from workorders.tasks import work_order_raise_for_report_task

    enqueue_on_commit(
        work_order_raise_for_report_task,
        event.payload["report_id"],
        WorkOrder.Kind.PREMISE_REPAIR.value,
        queue="dispatch",
    )


def on_report_danger(event: DomainEvent) -> None:
    """Sparks or a wire down: an urgent danger-response order, even for a merged report."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from workorders.models import WorkOrder
    from workorders.tasks import work_order_raise_for_report_task

    enqueue_on_commit(
        work_order_raise_for_report_task,
        event.payload["report_id"],
        WorkOrder.Kind.DANGER.value,
        queue="dispatch",
    )


class WorkordersConfig(AppConfig):
    name = "workorders"
    verbose_name = _("抢修工单")

    def ready(self) -> None:
        """Subscribe to the outages app's events (the only path from outages up to here)."""
        from outages import events

        events.subscribe(events.OUTAGE_PREDICTED, on_outage_raised)
        events.subscribe(events.OUTAGE_CONFIRMED, on_outage_raised)
        events.subscribe(events.OUTAGE_STATUS_CHANGED, on_outage_status_changed)
        events.subscribe(events.OUTAGE_RESTORED, on_outage_restored)
        events.subscribe(events.REPORT_NEEDS_PREMISE_VISIT, on_report_needs_premise_visit)
        events.subscribe(events.REPORT_DANGER, on_report_danger)
        # The outages app's hooks for the crew on an outage (public map, agent's page).
        from outages.providers import public_crew, work_progress
        from workorders import outage_progress

        work_progress.register(
            crew_statuses=outage_progress.crew_statuses_for_outages,
            progress=outage_progress.progress_for_outage,
        )
        public_crew.register(outage_progress.public_crew_for_outage)
        # The agent's page: a premise's closed orders and their return visits.
        from outages.providers import return_visits
        from workorders.selectors.satisfaction import closed_orders_for_service_point

        return_visits.register(closed_orders_for_service_point)
