"""Pages of the work-orders app: the dispatcher console and its live feed.

Mounted under ``/console/`` by ``dispatch_center/urls.py``; the REST API is in ``api_urls``.
"""

from django.urls import path

from . import console_views

urlpatterns = [
    path("", console_views.console, name="console"),
    path("feed.json", console_views.console_feed, name="console-feed"),
]
