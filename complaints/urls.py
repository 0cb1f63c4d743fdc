"""Pages of the complaint desk; mounted under /complaints/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.complaint_desk, name="complaint-desk"),
    path("<int:complaint_id>/", views.complaint_detail, name="complaint-detail-page"),
    path("<int:complaint_id>/action", views.complaint_action, name="complaint-action"),
    path("bulletin/", views.complaint_bulletin_page, name="complaint-bulletin-page"),
]
