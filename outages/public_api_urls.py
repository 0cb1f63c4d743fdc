"""URLs of the intake, the public API and the SCADA endpoint, mounted under /api/v1/.

The public and telemetry paths are fixed by the integration contract (shared API.md).
"""

from django.urls import path

from outages.api import public as public_api
from outages.api import reports as report_api
from outages.api import scada as scada_api

urlpatterns = [
    path("public/lookup", public_api.PublicLookupApi.as_view(), name="public-lookup"),
    path("public/reports", public_api.PublicReportCreateApi.as_view(), name="public-report-create"),
    path(
        "public/reports/<str:reference>",
        public_api.PublicReportDetailApi.as_view(),
        name="public-report-detail",
    ),
    path("reports", report_api.ReportsApi.as_view(), name="reports"),
    path("reports/<int:report_id>", report_api.ReportDetailApi.as_view(), name="report-detail"),
    path(
        "reports/<int:report_id>/resolve",
        report_api.ReportResolveApi.as_view(),
        name="report-resolve",
    ),
    path("scada/events", scada_api.ScadaEventApi.as_view(), name="scada-events"),
]
