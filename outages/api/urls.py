"""Every REST endpoint of the outages app, mounted under /api/v1/ by ``dispatch_center/urls.py``.

The public, subscription and telemetry paths are fixed by the integration contract (shared
API.md); the staff paths by the staff clients.
"""

from django.urls import path

from outages.api import calls, manual, public, reports, scada, staff, subscriptions

urlpatterns = [
    # Public: look-up and fault reports (outages.api.public). First: Django tries the patterns
    # in order, and these two take a storm's traffic.
    path("public/lookup", public.PublicLookupApi.as_view(), name="public-lookup"),
    path("public/reports", public.PublicReportCreateApi.as_view(), name="public-report-create"),
    path(
        "public/reports/<str:reference>",
        public.PublicReportDetailApi.as_view(),
        name="public-report-detail",
    ),
    # Staff: the outage information pool (outages.api.staff).
    path("outages", staff.OutageListApi.as_view(), name="outage-list"),
    path("outages/planned", staff.PlannedOutageCreateApi.as_view(), name="outage-planned-create"),
    path(
        "outages/planned/preview",
        manual.PlannedOutagePreviewApi.as_view(),
        name="outage-planned-preview",
    ),
    path("outages/manual", manual.OutageDeclareApi.as_view(), name="outage-declare"),
    path("outages/devices-near", manual.DevicesNearApi.as_view(), name="outage-devices-near"),
    path("outages/notices", staff.PlannedNoticeListApi.as_view(), name="outage-notices"),
    path(
        "outages/stats/districts",
        staff.OutageDistrictCountsApi.as_view(),
        name="outage-district-counts",
    ),
    path("outages/<int:outage_id>", staff.OutageDetailApi.as_view(), name="outage-detail"),
    path("outages/<int:outage_id>/edit", staff.OutageUpdateApi.as_view(), name="outage-update"),
    path(
        "outages/<int:outage_id>/transitions",
        staff.OutageTransitionApi.as_view(),
        name="outage-transition",
    ),
    path("outages/<int:outage_id>/etr", staff.OutageEtrApi.as_view(), name="outage-etr"),
    path(
        "outages/<int:outage_id>/restorations",
        staff.OutageRestoreDeviceApi.as_view(),
        name="outage-restore-device",
    ),
    path(
        "outages/<int:outage_id>/notice",
        staff.PlannedOutageNoticeApi.as_view(),
        name="outage-publish-notice",
    ),
    # Public: subscriptions to outage updates (outages.api.subscriptions).
    path(
        "public/subscriptions",
        subscriptions.PublicSubscribeApi.as_view(),
        name="public-subscription-create",
    ),
    path(
        "public/subscriptions/unsubscribe",
        subscriptions.PublicUnsubscribeApi.as_view(),
        name="public-subscription-cancel",
    ),
    # Staff: the trouble report intake (outages.api.reports).
    path("reports", reports.ReportsApi.as_view(), name="reports"),
    path("reports/<int:report_id>", reports.ReportDetailApi.as_view(), name="report-detail"),
    path(
        "reports/<int:report_id>/resolve",
        reports.ReportResolveApi.as_view(),
        name="report-resolve",
    ),
    # Staff: the hotline call log (outages.api.calls).
    path("calls", calls.CallCreateApi.as_view(), name="call-create"),
    # The SCADA/DMS gateway (outages.api.scada).
    path("scada/events", scada.ScadaEventApi.as_view(), name="scada-events"),
]
