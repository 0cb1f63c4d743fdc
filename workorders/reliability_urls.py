"""The inspection order raised from a frequent-outage alert, under /api/v1/."""

from django.urls import path

from . import reliability_inspection

urlpatterns = [
    path(
        "reliability/alerts/<int:alert_id>/inspection-order",
        reliability_inspection.InspectionFromAlertApi.as_view(),
        name="reliability-alert-inspection-order",
    ),
]
