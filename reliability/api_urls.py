"""REST endpoints of the reliability app, under /api/v1/ (staff; see ``reliability.api``)."""

from django.urls import path

from . import api

urlpatterns = [
    path("reliability/alerts", api.AlertListApi.as_view(), name="reliability-alerts"),
    path(
        "reliability/alerts/<int:alert_id>/acknowledge",
        api.AlertAcknowledgeApi.as_view(),
        name="reliability-alert-acknowledge",
    ),
    path(
        "reliability/customers/<int:service_point_id>",
        api.CustomerStatusApi.as_view(),
        name="reliability-customer-status",
    ),
    path("reliability/aggregates", api.AggregatesApi.as_view(), name="reliability-aggregates"),
    path("reliability/indices", api.IndicesApi.as_view(), name="reliability-indices"),
    path(
        "reliability/indices/customers",
        api.CustomerIndicesApi.as_view(),
        name="reliability-customer-indices",
    ),
    path(
        "reliability/planned-previews",
        api.PlannedPreviewListApi.as_view(),
        name="reliability-planned-previews",
    ),
    path(
        "reliability/planned-preview/<int:outage_id>",
        api.PlannedPreviewApi.as_view(),
        name="reliability-planned-preview",
    ),
]
