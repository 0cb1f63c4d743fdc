"""Public pages of the outages app (no login): the outage map, report tracking, the snapshot.

Mounted at the site root by ``dispatch_center/urls.py``. The snapshot route serves
``SNAPSHOT_DIR`` under ``SNAPSHOT_URL_PREFIX`` (``/snapshot/`` when the prefix is an absolute
CDN URL) for the embedded mode; in production nginx answers that prefix before Django.
"""

from urllib.parse import urlparse

from django.conf import settings
from django.urls import path, re_path

from outages.views import public as public_views


def _snapshot_route() -> str:
    prefix = settings.SNAPSHOT_URL_PREFIX
    parsed = urlparse(prefix)
    local = "snapshot/" if parsed.scheme or parsed.netloc else parsed.path.strip("/") + "/"
    return "^" + local.lstrip("/") + r"(?P<path>.+)$"


urlpatterns = [
    path("map/", public_views.outage_map, name="public-map"),
    path("map/report/<str:reference>", public_views.report_track, name="public-report-track"),
    re_path(_snapshot_route(), public_views.snapshot_file, name="public-snapshot"),
]
