"""REST endpoints of the work-orders app, mounted under /api/v1/ (views in ``workorders.api``:
``crew`` for the crews' app, ``console`` for the dispatcher console, ``board`` for its crews)."""

from django.urls import path

from .api import board, console, crew

urlpatterns = [
    # The crews' app (contract: shared/API.md).
    path("crew/orders", crew.CrewOrderListApi.as_view(), name="crew-orders"),
    path(
        "crew/orders/<int:order_id>/actions",
        crew.CrewOrderActionApi.as_view(),
        name="crew-order-action",
    ),
    path("crew/locations", crew.CrewLocationsApi.as_view(), name="crew-locations"),
    path("crew/pool", crew.CrewPoolApi.as_view(), name="crew-pool"),
    path("crew/pool/<int:order_id>/claim", crew.CrewPoolClaimApi.as_view(), name="crew-pool-claim"),
    # The dispatcher console.
    path("work-orders", console.WorkOrderListApi.as_view(), name="work-order-list"),
    path("work-orders/summary", console.WorkOrderSummaryApi.as_view(), name="work-order-summary"),
    path(
        "work-orders/<int:order_id>", console.WorkOrderDetailApi.as_view(), name="work-order-detail"
    ),
    path(
        "work-orders/<int:order_id>/suggestions",
        console.WorkOrderSuggestionsApi.as_view(),
        name="work-order-suggestions",
    ),
    path(
        "work-orders/<int:order_id>/dispatch",
        console.WorkOrderDispatchApi.as_view(),
        name="work-order-dispatch",
    ),
    path(
        "work-orders/<int:order_id>/place",
        console.WorkOrderPlaceApi.as_view(),
        name="work-order-place",
    ),
    path(
        "work-orders/<int:order_id>/publish",
        console.WorkOrderPublishApi.as_view(),
        name="work-order-publish",
    ),
    path(
        "work-orders/<int:order_id>/cancel",
        console.WorkOrderCancelApi.as_view(),
        name="work-order-cancel",
    ),
    path(
        "work-orders/<int:order_id>/merge",
        console.WorkOrderMergeApi.as_view(),
        name="work-order-merge",
    ),
    path(
        "work-orders/<int:order_id>/close",
        console.WorkOrderCloseApi.as_view(),
        name="work-order-close",
    ),
    path(
        "work-orders/<int:order_id>/return-visit",
        console.WorkOrderReturnVisitApi.as_view(),
        name="work-order-return-visit",
    ),
    path(
        "work-orders/<int:order_id>/outage/etr",
        console.WorkOrderOutageEtrApi.as_view(),
        name="work-order-outage-etr",
    ),
    path(
        "work-orders/<int:order_id>/outage/confirm",
        console.WorkOrderOutageConfirmApi.as_view(),
        name="work-order-outage-confirm",
    ),
    path("dispatch/crews", board.CrewBoardApi.as_view(), name="dispatch-crews"),
    path(
        "dispatch/crews/<int:crew_id>/duty", board.CrewDutyApi.as_view(), name="dispatch-crew-duty"
    ),
]
