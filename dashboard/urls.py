"""The supervisors' dashboard: /dashboard/ and its dictionary, downloads, report."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_page, name="page"),
    path("dictionary/", views.dictionary_page, name="dictionary"),
    path("export.<str:fmt>", views.export_table, name="export"),
    path("report/", views.monthly_report, name="report"),
    path("points/award/", views.award_points, name="award"),
]
