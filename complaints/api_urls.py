"""REST endpoints of the complaints app, mounted under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path("complaints", api.ComplaintCreateApi.as_view(), name="complaint-create"),
    path("complaints/bulletin", api.ComplaintBulletinApi.as_view(), name="complaint-bulletin"),
    path(
        "complaints/categories", api.ComplaintCategoryListApi.as_view(), name="complaint-categories"
    ),
    path("complaints/risk", api.CustomerRiskApi.as_view(), name="complaint-customer-risk"),
    path("complaints/attention", api.ComplaintAttentionApi.as_view(), name="complaint-attention"),
    path(
        "complaints/<int:complaint_id>", api.ComplaintDetailApi.as_view(), name="complaint-detail"
    ),
    path(
        "complaints/<int:complaint_id>/transition",
        api.ComplaintTransitionApi.as_view(),
        name="complaint-transition",
    ),
    path(
        "complaints/<int:complaint_id>/trace",
        api.ComplaintTraceApi.as_view(),
        name="complaint-trace",
    ),
    path(
        "complaints/<int:complaint_id>/accountability",
        api.ComplaintAccountabilityApi.as_view(),
        name="complaint-accountability",
    ),
    path(
        "complaints/<int:complaint_id>/similar",
        api.ComplaintSimilarApi.as_view(),
        name="complaint-similar",
    ),
    path(
        "complaints/<int:complaint_id>/remedy-list",
        api.ComplaintRemedyListApi.as_view(),
        name="complaint-remedy-list",
    ),
]
