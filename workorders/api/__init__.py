"""REST endpoints of the work-orders app, mounted under /api/v1/ by ``workorders.api_urls``.

Two audiences, one module each, plus the crew board and the shared output:

* ``crew``: **the crews' app** (token of a crew member; contract in ``shared/API.md``, paths
  and field names fixed): ``crew/orders``, ``crew/orders/{id}/actions`` (with
  ``Idempotency-Key``), ``crew/locations``, ``crew/pool``, ``crew/pool/{id}/claim`` (409 when
  the race is lost). A crew member acts only on its own crew's orders (403 otherwise).
* ``console``: **the dispatcher console** (dispatchers and supervisors write; hotline agents
  read and record return visits): ``work-orders`` (list with filters and SLA state, create),
  ``work-orders/{id}`` (detail: timeline, decisions explained), ``…/suggestions``,
  ``…/dispatch``, ``…/publish``, ``…/cancel``, ``…/merge``, ``…/close``, ``…/return-visit``,
  ``…/outage/etr``, ``…/outage/confirm``.
* ``board``: ``dispatch/crews`` (the crew board) and ``dispatch/crews/{id}/duty``.
* ``serializers``: the order as lists and the detail show it; ``access``: roles and who asks.

One class per operation: validate → service / selector → serialize. Errors use the
contract's shape (``dispatch_center.core.api``): 400 with per-field messages, 403, 404, 409.
"""

from .board import CrewBoardApi, CrewDutyApi
from .console import (
    WorkOrderCancelApi,
    WorkOrderCloseApi,
    WorkOrderDetailApi,
    WorkOrderDispatchApi,
    WorkOrderListApi,
    WorkOrderMergeApi,
    WorkOrderOutageConfirmApi,
    WorkOrderOutageEtrApi,
    WorkOrderPublishApi,
    WorkOrderReturnVisitApi,
    WorkOrderSuggestionsApi,
    WorkOrderSummaryApi,
)
from .crew import (
    CrewLocationsApi,
    CrewOrderActionApi,
    CrewOrderListApi,
    CrewPoolApi,
    CrewPoolClaimApi,
)

__all__ = [
    "CrewBoardApi",
    "CrewDutyApi",
    "CrewLocationsApi",
    "CrewOrderActionApi",
    "CrewOrderListApi",
    "CrewPoolApi",
    "CrewPoolClaimApi",
    "WorkOrderCancelApi",
    "WorkOrderCloseApi",
    "WorkOrderDetailApi",
    "WorkOrderDispatchApi",
    "WorkOrderListApi",
    "WorkOrderMergeApi",
    "WorkOrderOutageConfirmApi",
    "WorkOrderOutageEtrApi",
    "WorkOrderPublishApi",
    "WorkOrderReturnVisitApi",
    "WorkOrderSuggestionsApi",
    "WorkOrderSummaryApi",
]
