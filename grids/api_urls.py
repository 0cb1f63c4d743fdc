"""REST endpoints of the grids app, mounted under /api/v1/."""

from django.urls import path

urlpatterns: list = []  # type: ignore[type-arg]
