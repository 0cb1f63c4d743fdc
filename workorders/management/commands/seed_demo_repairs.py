"""Bring the demo's repair story to the work orders: the crew on the 福田 cable fault.

``seed_demo_outages`` tells the outages' stories; whether a crew is on an outage is the repair
order's business, so the outage follows its order (dispatched → accepted → en route → on site
moves the outage to crew dispatched, then crew on site, through ``workorders.services``) and
the two never contradict each other. Run after ``seed_demo_outages``; safe to run again (an
order already on site is left alone).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from grids.models import Crew
from outages.models import Outage, OutageEvent
from workorders import selectors, services
from workorders.models import WorkOrder

DEMO_OUTAGES_LABEL = "seed_demo_outages"
# The demo outage whose crew is on site: the 福田 10 kV cable fault.
ON_SITE_CAUSE = "cable_fault"
Status = WorkOrder.Status


class Command(BaseCommand):
    help = "Put a crew on site on the demo's cable fault through its repair order. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        outage_ids = OutageEvent.objects.filter(
            actor_label=DEMO_OUTAGES_LABEL, kind=OutageEvent.Kind.CREATED
        ).values("outage_id")
        outage = (
            Outage.objects.filter(
                pk__in=outage_ids, cause__code=ON_SITE_CAUSE, status__in=Outage.ACTIVE
            )
            .order_by("pk")
            .first()
        )
        if outage is None:
            self.stdout.write("No demo cable fault: nothing to do.")
            return
        order = services.work_order_raise_for_outage(outage_id=outage.pk)
        if order is None:
            self.stdout.write(f"Outage {outage.pk} needs no repair order.")
            return
        order = self._on_site(order)
        self.stdout.write(f"Repair order {order.pk} of outage {outage.pk}: {order.status}")

    @transaction.atomic
    def _on_site(self, order: WorkOrder) -> WorkOrder:
        order = WorkOrder.objects.select_for_update().get(pk=order.pk)
        if order.status in WorkOrder.NEEDS_DISPATCH | {Status.PUBLISHED}:
            crew = self._nearest_crew(order)
            if crew is None:
                return order
            services.work_order_assign(order=order, crew=crew, actor=None, reason="演示数据")
            order.refresh_from_db()
        crew = order.crew
        if crew is None:
            return order
        steps = (
            (Status.DISPATCHED, services.work_order_accept),
            (Status.CLAIMED, services.work_order_accept),
            (Status.ACCEPTED, services.work_order_depart),
            (Status.EN_ROUTE, services.work_order_arrive),
        )
        for status, step in steps:
            if order.status == status:
                order = step(order=order, crew=crew, actor=None)
        return order

    def _nearest_crew(self, order: WorkOrder) -> Crew | None:
        ranked = selectors.work_order_suggestions(order=order, limit=1)["candidates"]
        if not ranked:
            return None
        return Crew.objects.get(pk=ranked[0]["crew_id"])
