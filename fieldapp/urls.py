"""Pages of the crews' app, mounted under /crew/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.shell, name="fieldapp-shell"),
    path("sw.js", views.service_worker, name="fieldapp-sw"),
    path("manifest.webmanifest", views.manifest, name="fieldapp-manifest"),
]
