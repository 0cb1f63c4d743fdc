"""REST endpoints of the outages app, mounted under /api/v1/ (staff; see ``outages.api.staff``)."""

from django.urls import path

from outages.api import staff as api

urlpatterns = [
    path("outages", api.OutageListApi.as_view(), name="outage-list"),
    path("outages/planned", api.PlannedOutageCreateApi.as_view(), name="outage-planned-create"),
    path("outages/notices", api.PlannedNoticeListApi.as_view(), name="outage-notices"),
    path(
        "outages/stats/districts",
        api.OutageDistrictCountsApi.as_view(),
        name="outage-district-counts",
    ),
    path("outages/<int:outage_id>", api.OutageDetailApi.as_view(), name="outage-detail"),
    path("outages/<int:outage_id>/edit", api.OutageUpdateApi.as_view(), name="outage-update"),
    path(
        "outages/<int:outage_id>/transitions",
        api.OutageTransitionApi.as_view(),
        name="outage-transition",
    ),
    path("outages/<int:outage_id>/etr", api.OutageEtrApi.as_view(), name="outage-etr"),
    path(
        "outages/<int:outage_id>/restorations",
        api.OutageRestoreDeviceApi.as_view(),
        name="outage-restore-device",
    ),
    path(
        "outages/<int:outage_id>/notice",
        api.PlannedOutageNoticeApi.as_view(),
        name="outage-publish-notice",
    ),
]
