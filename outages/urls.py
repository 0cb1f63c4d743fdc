"""Every page of the outages app, mounted at the site root by ``dispatch_center/urls.py``.

The public map, report tracking, the unsubscribe link's page and the snapshot files need no
login; the hotline agent's page (``/agent/``) checks roles itself. The snapshot route serves
``SNAPSHOT_DIR`` under ``SNAPSHOT_URL_PREFIX`` (``/snapshot/`` when the prefix is an absolute
CDN URL) for the embedded mode; in production nginx answers that prefix before Django.
The REST endpoints are in ``outages.api.urls``.
"""

from urllib.parse import urlparse

from django.conf import settings
from django.urls import path, re_path

from outages.views import agent, public, subscriptions


def _snapshot_route() -> str:
    prefix = settings.SNAPSHOT_URL_PREFIX
    parsed = urlparse(prefix)
    local = "snapshot/" if parsed.scheme or parsed.netloc else parsed.path.strip("/") + "/"
    return "^" + local.lstrip("/") + r"(?P<path>.+)$"


urlpatterns = [
    # The hotline agent's page (outages.views.agent).
    path("agent/", agent.agent_home, name="agent-home"),
    path("agent/calls", agent.agent_call_create, name="agent-call-create"),
    # The public outage map (outages.views.public, outages.views.subscriptions).
    path("map/", public.outage_map, name="public-map"),
    path("map/report/<str:reference>", public.report_track, name="public-report-track"),
    path("map/unsubscribe/<str:token>", subscriptions.unsubscribe_page, name="public-unsubscribe"),
    re_path(_snapshot_route(), public.snapshot_file, name="public-snapshot"),
]
