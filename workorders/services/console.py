"""The dispatcher console's dispatch button as one service."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError
from grids.models import Crew
from workorders.models import WorkOrder

from .dispatch import work_order_assign, work_order_redispatch


@transaction.atomic
def work_order_dispatch_by_hand(
    *,
    order: WorkOrder,
    crew: Crew | None = None,
    actor: User | None,
    reason: str = "",
    override: bool = False,
    expected_version: int | None = None,
) -> WorkOrder:
    """Dispatch to ``crew`` (manual assignment), or without one send the order back to
    automatic dispatch (withdrawn from its crew, which is not offered it again).

    ``expected_version`` is the version the dispatcher saw: a stale one is refused with
    ``ConcurrentUpdate`` (409). ``work_order_assign`` and ``work_order_redispatch`` then
    compare-and-set on that same version, so a change in between is refused as well.

    ``override``: the dispatcher picks a crew the filters exclude (or one for an order the
    engine cannot rank); a written ``reason`` is required (``DomainError`` 400) and recorded
    on the decision with the reasons the crew was excluded for.
    """
    if override and (crew is None or not reason.strip()):
        field = "reason" if crew is not None else "crew"
        message = (
            _("越过筛选条件派单须填写原因。")
            if crew is not None
            else _("越过筛选条件派单须选择班组。")
        )
        raise DomainError(message, code="invalid", fields={field: [message]})
    if expected_version is not None and expected_version != order.version:
        raise ConcurrentUpdate(order.pk)
    if crew is not None:
        return work_order_assign(
            order=order, crew=crew, actor=actor, reason=reason.strip(), override=override
        )
    return work_order_redispatch(order=order, actor=actor, reason=reason)
