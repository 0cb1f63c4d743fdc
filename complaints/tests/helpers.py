"""Outage and work-order histories built through the other apps' services."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from outages.models import EtrChange, Outage
from outages.services import outage_create, outage_restore
from outages.tests.factories import outage_type
from workorders.models import WorkOrder
from workorders.services import work_order_create


def past_outage(
    network: Any,
    device: str = "S1",
    *,
    started_ago: timedelta = timedelta(hours=5),
    lasted: timedelta | None = timedelta(hours=1),
) -> Outage:
    """A fault outage that started ``started_ago`` and (unless ``lasted`` is None) was restored
    ``lasted`` later."""
    start = timezone.now() - started_ago
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network[device],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        started_at=start,
    )
    if lasted is not None:
        outage_restore(outage=outage, actor=None, at=start + lasted)
    outage.refresh_from_db()
    return outage


def shift_etr(outage: Outage, *, etr: datetime, announced_at: datetime) -> None:
    """Record an ETR announced in the past (the service refuses past ETRs, rightly)."""
    EtrChange.objects.create(outage=outage, new_etr=etr, at=announced_at, actor_label="test")
    Outage.objects.filter(pk=outage.pk).update(etr=etr)


def premise_order(sp: Any, **columns: Any) -> WorkOrder:
    order = work_order_create(
        kind=WorkOrder.Kind.PREMISE_REPAIR,
        title="单户抢修",
        actor=None,
        service_point=sp,
        dispatch=False,
    )
    if columns:
        WorkOrder.objects.filter(pk=order.pk).update(**columns)
        order.refresh_from_db()
    return order
