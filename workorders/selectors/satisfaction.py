"""Reads for the return visits on closed orders (the hotline agent's page, through
``outages.providers.return_visits``)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from outages.providers.return_visits import ClosedOrder, VisitEntry
from outages.selectors import complaint_outage_ids_for_service_point
from workorders.models import SatisfactionVisit, WorkOrder

# How far back an agent may still call a customer back about closed work.
RETURN_VISIT_DAYS = 30
LIMIT = 10


def closed_orders_qs(
    *, service_point_id: int, days: int = RETURN_VISIT_DAYS
) -> QuerySet[WorkOrder]:
    """Orders closed in the last ``days`` that concerned ``service_point_id``: its own
    premise orders and the repairs of outages that had it out. Newest first."""
    since = timezone.now() - timedelta(days=days)
    outage_ids = complaint_outage_ids_for_service_point(
        service_point_id=service_point_id, since=since
    )
    return (
        WorkOrder.objects.filter(status=WorkOrder.Status.CLOSED, closed_at__gte=since)
        .filter(Q(service_point_id=service_point_id) | Q(outage_id__in=outage_ids))
        .select_related("crew")
        .order_by("-closed_at", "-pk")
    )


def closed_orders_for_service_point(service_point_id: int) -> list[ClosedOrder]:
    """``ClosedOrder`` rows for the agent's page (the ``ClosedOrdersProvider``), each with
    this premise's satisfaction visit when recorded. Three queries."""
    visits = SatisfactionVisit.objects.filter(service_point_id=service_point_id).select_related(
        "agent"
    )
    orders = closed_orders_qs(service_point_id=service_point_id).prefetch_related(
        Prefetch("satisfaction_visits", queryset=visits, to_attr="premise_visits")
    )[:LIMIT]
    rows: list[ClosedOrder] = []
    for order in orders:
        found = order.premise_visits[0] if order.premise_visits else None  # type: ignore[attr-defined]
        visit: VisitEntry | None = None
        if found is not None:
            agent = found.agent
            visit = VisitEntry(
                agent=(agent.get_full_name() or agent.get_username()) if agent else "",
                at=found.at,
                satisfied=found.satisfied,
                note=found.note,
            )
        rows.append(
            ClosedOrder(
                order_id=order.pk,
                title=order.title,
                kind_label=str(order.get_kind_display()),
                crew=order.crew.name if order.crew else None,
                closed_at=order.closed_at,
                visit=visit,
            )
        )
    return rows


def closed_order_for_service_point(*, order_id: int, service_point_id: int) -> WorkOrder | None:
    """The order ``order_id`` if it is one of the premise's closed orders, else None."""
    return closed_orders_qs(service_point_id=service_point_id).filter(pk=order_id).first()
