"""REST endpoints of the work-orders app, mounted under /api/v1/ (see ``workorders.api``)."""

from django.urls import path

from . import api

urlpatterns = [
    # The crews' app (contract: shared/API.md).
    path("crew/orders", api.CrewOrderListApi.as_view(), name="crew-orders"),
    path(
        "crew/orders/<int:order_id>/actions",
        api.CrewOrderActionApi.as_view(),
        name="crew-order-action",
    ),
    path("crew/locations", api.CrewLocationsApi.as_view(), name="crew-locations"),
    path("crew/pool", api.CrewPoolApi.as_view(), name="crew-pool"),
    path("crew/pool/<int:order_id>/claim", api.CrewPoolClaimApi.as_view(), name="crew-pool-claim"),
    # The dispatcher console.
    path("work-orders", api.WorkOrderListApi.as_view(), name="work-order-list"),
    path("work-orders/summary", api.WorkOrderSummaryApi.as_view(), name="work-order-summary"),
    path("work-orders/<int:order_id>", api.WorkOrderDetailApi.as_view(), name="work-order-detail"),
    path(
        "work-orders/<int:order_id>/suggestions",
        api.WorkOrderSuggestionsApi.as_view(),
        name="work-order-suggestions",
    ),
    path(
        "work-orders/<int:order_id>/dispatch",
        api.WorkOrderDispatchApi.as_view(),
        name="work-order-dispatch",
    ),
    path(
        "work-orders/<int:order_id>/publish",
        api.WorkOrderPublishApi.as_view(),
        name="work-order-publish",
    ),
    path(
        "work-orders/<int:order_id>/cancel",
        api.WorkOrderCancelApi.as_view(),
        name="work-order-cancel",
    ),
    path(
        "work-orders/<int:order_id>/merge", api.WorkOrderMergeApi.as_view(), name="work-order-merge"
    ),
    path(
        "work-orders/<int:order_id>/close", api.WorkOrderCloseApi.as_view(), name="work-order-close"
    ),
    path(
        "work-orders/<int:order_id>/return-visit",
        api.WorkOrderReturnVisitApi.as_view(),
        name="work-order-return-visit",
    ),
    path(
        "work-orders/<int:order_id>/outage/etr",
        api.WorkOrderOutageEtrApi.as_view(),
        name="work-order-outage-etr",
    ),
    path(
        "work-orders/<int:order_id>/outage/confirm",
        api.WorkOrderOutageConfirmApi.as_view(),
        name="work-order-outage-confirm",
    ),
    path("dispatch/crews", api.CrewBoardApi.as_view(), name="dispatch-crews"),
    path("dispatch/crews/<int:crew_id>/duty", api.CrewDutyApi.as_view(), name="dispatch-crew-duty"),
]
