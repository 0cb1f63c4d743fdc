"""The repair work on an outage, for the outages app's hooks
(``outages.providers.work_progress``, ``outages.providers.public_crew``). Read-only;
``WorkordersConfig.ready()`` registers these functions.

``outages`` may not import this app, so it asks through the hooks: the public snapshot for the
coarse crew state of many outages at once, the public look-up for the crew of one outage
(rounded there), the hotline agent's page for the order's progress and the crew's ETA.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from outages.providers.public_crew import PublicCrew
from outages.providers.work_progress import OutageWork, WorkStep
from workorders import dispatching
from workorders.models import WorkOrder, WorkOrderEvent

# Work-order status → the public crew state (``outages.views.public.CREW_STATUS_LABELS``).
PUBLIC_CREW_STATUS: dict[str, str] = {
    WorkOrder.Status.DISPATCHED: "dispatched",
    WorkOrder.Status.CLAIMED: "dispatched",
    WorkOrder.Status.ACCEPTED: "accepted",
    WorkOrder.Status.EN_ROUTE: "en_route",
    WorkOrder.Status.ON_SITE: "on_site",
    WorkOrder.Status.COMPLETED: "completed",
    WorkOrder.Status.RETURN_VISIT: "completed",
    WorkOrder.Status.CLOSED: "completed",
}
_NOT_LIVE = (WorkOrder.Status.CANCELLED, WorkOrder.Status.MERGED)
_ON_THE_WAY = frozenset(
    {
        WorkOrder.Status.DISPATCHED,
        WorkOrder.Status.CLAIMED,
        WorkOrder.Status.ACCEPTED,
        WorkOrder.Status.EN_ROUTE,
    }
)


def _repair_orders(outage_ids: list[int]) -> QuerySet[WorkOrder]:
    return (
        WorkOrder.objects.filter(outage_id__in=outage_ids, kind=WorkOrder.Kind.OUTAGE_REPAIR)
        .exclude(status__in=_NOT_LIVE)
        .order_by("outage_id", "-created_at", "-pk")
    )


def crew_statuses_for_outages(outage_ids: list[int]) -> dict[int, str]:
    """``{outage_id: public crew state}`` of the newest live repair order of each outage that
    has a crew. One query."""
    found: dict[int, str] = {}
    for outage_id, status in _repair_orders(outage_ids).values_list("outage_id", "status"):
        if outage_id in found:
            continue
        public = PUBLIC_CREW_STATUS.get(status)
        if public:
            found[outage_id] = public
    return found


def _order_for(outage_id: int) -> WorkOrder | None:
    return _repair_orders([outage_id]).select_related("crew").first()


def crew_eta(order: WorkOrder, *, now: datetime | None = None) -> datetime | None:
    """When the order's crew should arrive: from its last position at the area's driving
    speed (never before now), else the arrival commitment; None once on site or crewless."""
    if order.status not in _ON_THE_WAY or order.crew is None:
        return None
    now = now or timezone.now()
    crew = order.crew
    if (
        crew.last_lat is not None
        and crew.last_lng is not None
        and order.lat is not None
        and order.lng is not None
    ):
        km = float(dispatching.haversine_km(crew.last_lat, crew.last_lng, order.lat, order.lng))
        minutes = dispatching.travel_minutes(km, order.area_class)
        return now + timedelta(minutes=max(minutes, 1.0))
    return order.arrive_due_at


def progress_for_outage(outage_id: int) -> OutageWork | None:
    """The newest live repair order of ``outage_id`` as
    ``outages.providers.work_progress.OutageWork``: status, crew, ETA, commitment and timeline.
    Two queries; None without an order."""
    order = _order_for(outage_id)
    if order is None:
        return None
    steps = [
        WorkStep(
            at=e.at,
            label=str(e.get_to_status_display() if e.to_status else e.get_kind_display()),
            note=e.reason,
        )
        for e in WorkOrderEvent.objects.filter(order=order)
        .exclude(kind=WorkOrderEvent.Kind.DISPATCH_DECISION)
        .order_by("at", "pk")
    ]
    return OutageWork(
        order_id=order.pk,
        status=order.status,
        status_label=str(order.get_status_display()),
        crew=order.crew.name if order.crew else None,
        crew_status=PUBLIC_CREW_STATUS.get(order.status),
        eta=crew_eta(order),
        arrived_at=order.arrived_at,
        arrive_due_at=order.arrive_due_at,
        sla_state=order.sla_state,
        sla_state_label=str(order.get_sla_state_display()),
        steps=steps,
    )


def public_crew_for_outage(outage_id: int) -> PublicCrew | None:
    """``{"status", "lat", "lng"}`` of the crew on ``outage_id`` for the public look-up
    (``outages.providers.public_crew`` rounds the position); None without a crew."""
    order = _order_for(outage_id)
    if order is None or order.crew is None:
        return None
    status = PUBLIC_CREW_STATUS.get(order.status)
    if status is None:
        return None
    return PublicCrew(status=status, lat=order.crew.last_lat, lng=order.crew.last_lng)
