"""REST endpoints of the grids app, mounted under /api/v1/."""

from django.urls import path

from . import api

urlpatterns = [
    path(
        "service-points/search",
        api.ServicePointSearchApi.as_view(),
        name="service-point-search",
    ),
]
