"""The return visit on a closed order: the customer's satisfaction, as an agent recorded it."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.models import ServicePoint
from workorders.models import SatisfactionVisit, WorkOrder, WorkOrderEvent

from . import common


@transaction.atomic
def work_order_satisfaction_record(
    *,
    order: WorkOrder,
    service_point: ServicePoint,
    actor: User | None,
    satisfied: bool,
    note: str = "",
    at: datetime | None = None,
) -> SatisfactionVisit:
    """Record whether the customer at ``service_point`` is satisfied with the closed
    ``order`` (who: ``actor``; when: ``at``, default now), and note it on the order's
    timeline. The order's status does not change (it is closed).

    Refused (``DomainError``) unless the order is closed; refused (``Conflict``) when this
    premise's visit on the order is already recorded (the order row is locked first, so two
    agents cannot both record one).
    """
    locked = WorkOrder.objects.select_for_update().filter(pk=order.pk).first()
    if locked is None or locked.status != WorkOrder.Status.CLOSED:
        message = _("只能对已归档的工单回访。")
        raise DomainError(message, code="not_closed", fields={"order": [message]})
    at = common.check_time(at)
    if SatisfactionVisit.objects.filter(order=locked, service_point=service_point).exists():
        raise Conflict(_("该用户对此工单的回访已记录。"))
    visit = SatisfactionVisit(
        order=locked,
        service_point=service_point,
        agent=actor,
        satisfied=satisfied,
        note=note.strip(),
        at=at,
    )
    visit.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError as exc:  # a race the lock did not cover (another premise path)
        raise Conflict(_("该用户对此工单的回访已记录。")) from exc
    common.record_event(
        order=locked,
        kind=WorkOrderEvent.Kind.RETURN_VISIT,
        at=timezone.now(),
        actor=actor,
        reason=visit.note,
        data={"satisfied": satisfied, "service_point": service_point.pk},
    )
    return visit
