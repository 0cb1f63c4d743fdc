"""The public outage map's pages and the snapshot files behind them (no login).

Storm-proof by construction: these views never read a live table. The map page is rendered
from settings, the reference geography in ``grids.geodata`` and translated labels; the
outage picture comes from the published snapshot (``outages.publicmap.publishing``), which nginx or
a CDN serves in production and ``snapshot_file`` serves in the embedded mode. Searching and
reporting go from the browser straight to the public API of the integration contract
(``/api/v1/public/...``), so the pages depend on nothing but that contract.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from grids.models import Place
from outages.models import Outage, OutageCategory, TroubleReport
from outages.publicmap.publishing import CURRENT_NAME, districts_geojson

# The public API's paths are fixed by the integration contract (shared API.md).
PUBLIC_API = {
    "lookup": "/api/v1/public/lookup",
    "reports": "/api/v1/public/reports",
    "report": "/api/v1/public/reports/",
}
# A contact phone: a mainland mobile number, or a landline with its area code (0755-12345678,
# 075512345678) and an optional extension. The public report API validates the same rule.
PHONE_PATTERN = r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$"
PHONE_RE = re.compile(PHONE_PATTERN)
# The crew's state as the public answers show it (``crew.status``); unknown ones show as sent.
CREW_STATUS_LABELS = {
    "assigned": _("已派工"),
    "dispatched": _("已派工"),
    "accepted": _("已接单"),
    "en_route": _("正在赶往现场"),
    "on_site": _("已到达现场"),
    "repairing": _("抢修中"),
    "completed": _("抢修完成"),
}
# Zoom levels below this show outages as clustered markers; from it on, as areas.
CLUSTER_BELOW_ZOOM = 13

SNAPSHOT_PATH_RE = re.compile(
    r"^(?:current\.json|v\d{6,}/[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.(?:json|geojson))$"
)
CONTENT_TYPES = {".json": "application/json", ".geojson": "application/geo+json"}
# current.json is tiny and changes at most every SNAPSHOT_MIN_INTERVAL seconds: a short max-age
# lets browsers and a CDN absorb the polling while the map stays at most seconds behind.
CURRENT_CACHE_CONTROL = "public, max-age=5"
# A version directory never changes once published.
VERSIONED_CACHE_CONTROL = "public, max-age=31536000, immutable"


def is_valid_phone(value: str) -> bool:
    """True for a mainland mobile number or a landline (spaces ignored)."""
    return bool(PHONE_RE.match(value.replace(" ", "")))


@cache
def _districts() -> dict[str, Any]:
    # Reference geography from a module constant: built once per process.
    return districts_geojson()


def _choices(choices: list[tuple[str, Any]]) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


def _page_config(request: HttpRequest) -> dict[str, Any]:
    """What the pages' JS needs, as plain JSON (delivered with ``json_script``)."""
    prefix = settings.SNAPSHOT_URL_PREFIX
    if not prefix.endswith("/"):
        prefix += "/"
    return {
        "language": get_language(),
        "snapshotUrl": urljoin(prefix, CURRENT_NAME),
        "pollSeconds": settings.MAP_POLL_SECONDS,
        "api": PUBLIC_API,
        "trackUrl": "/map/report/",
        "phonePattern": PHONE_PATTERN,
        "clusterBelowZoom": CLUSTER_BELOW_ZOOM,
        "lookupLimit": 10,
        "labels": {
            "status": _choices(Outage.Status.choices),
            "category": _choices(OutageCategory.Code.choices),
            "symptom": _choices(TroubleReport.Symptom.choices),
            "reportStatus": _choices(TroubleReport.Status.choices),
            "crewStatus": {key: str(label) for key, label in CREW_STATUS_LABELS.items()},
            "placeKind": _choices(Place.Kind.choices),
        },
    }


@require_safe
def outage_map(request: HttpRequest) -> HttpResponse:
    """The public outage map: areas, summary, address search and the fault report form."""
    context = {
        "config": _page_config(request),
        "districts": _districts(),
        "symptoms": TroubleReport.Symptom.choices,
        "categories": OutageCategory.Code.choices,
    }
    return render(request, "outages/map.html", context)


@require_safe
def report_track(request: HttpRequest, reference: str) -> HttpResponse:
    """Tracking page of one fault report; its JS reads the report from the public API."""
    context = {"config": _page_config(request), "reference": reference}
    return render(request, "outages/report_track.html", context)


@require_safe
def snapshot_file(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a published snapshot file the way deploy/nginx.conf does (embedded mode).

    ``current.json`` gets a short max-age, versioned files are immutable; both carry a strong
    ETag and answer 304 to a matching ``If-None-Match``. A precompressed ``.gz`` twin is sent
    to clients that accept gzip. Only snapshot file names are accepted: no path escapes.
    """
    if not SNAPSHOT_PATH_RE.match(path):
        raise Http404("not a snapshot file")
    root = Path(settings.SNAPSHOT_DIR)
    target = root / path
    immutable = path != CURRENT_NAME
    gzipped = False
    data: bytes | None = None
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        try:
            data = target.with_name(target.name + ".gz").read_bytes()
            gzipped = True
        except FileNotFoundError:
            data = None
    if data is None:
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise Http404("no such snapshot file") from None

    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    cache_control = VERSIONED_CACHE_CONTROL if immutable else CURRENT_CACHE_CONTROL
    offered = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in offered or "*" in offered:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(data, content_type=CONTENT_TYPES[target.suffix])
        if gzipped:
            response["Content-Encoding"] = "gzip"
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["Vary"] = "Accept-Encoding"
    # Public data: other sites and mini-programs may read it.
    response["Access-Control-Allow-Origin"] = "*"
    return response
