"""The crews' app pages: the single-page shell at /crew/, its service worker (served from
/crew/ so its scope is the app) and the web app manifest. Everything else is static JS
talking to the crew API."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from dispatch_center.core import roles

STATIC_DIR = Path(settings.BASE_DIR) / "static" / "fieldapp"
# The files the service worker keeps for offline start (besides the shell page itself).
SHELL_FILES = ("app.js", "api.js", "outbox.js", "screens.js", "site.js", "nav.js", "app.css")
POLL_SECONDS = getattr(settings, "FIELDAPP_POLL_SECONDS", 10)


@cache
def shell_version() -> str:
    """A digest of the shell's files: a new deploy gets a new service-worker cache."""
    digest = hashlib.sha256()
    for name in SHELL_FILES:
        path = STATIC_DIR / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def shell_assets() -> list[str]:
    """URLs the service worker caches: the page, its scripts, styles and catalogues."""
    return [
        reverse("fieldapp-shell"),
        reverse("fieldapp-manifest"),
        # One catalogue URL per language: the cached copy of one never answers for the other.
        f"{reverse('javascript-catalog')}?lang={get_language()}",
        static("outages/js/coords.js"),
        static("fieldapp/icon.svg"),
        *(static(f"fieldapp/{name}") for name in SHELL_FILES),
    ]


@require_safe
def shell(request: HttpRequest) -> HttpResponse:
    """The app shell (crew members; anonymous visitors go to the login page)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not roles.has_role(request.user, roles.CREW_MEMBER):
        return HttpResponseForbidden(_("只有抢修班组成员可以使用此应用。"))
    get_token(request)  # the CSRF cookie the app's writes send back
    poll = int(getattr(settings, "FIELDAPP_POLL_SECONDS", POLL_SECONDS))
    ping = int(getattr(settings, "FIELDAPP_PING_SECONDS", 60))
    context = {
        "poll_ms": poll * 1000,
        "ping_ms": ping * 1000,
        "language": get_language(),
        "version": shell_version(),
    }
    return render(request, "fieldapp/shell.html", context)


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker: its scope is /crew/, its cache named after the shell's digest."""
    body = render(
        request,
        "fieldapp/sw.js",
        {"version": shell_version(), "assets": json.dumps(shell_assets())},
        content_type="text/javascript; charset=utf-8",
    )
    body["Cache-Control"] = "no-cache"
    return body


@require_safe
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest (installable on the phone's home screen)."""
    shell_url = reverse("fieldapp-shell")
    return JsonResponse(
        {
            "name": _("抢修班组"),
            "short_name": _("抢修"),
            "start_url": shell_url,
            "scope": shell_url,
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#0b5394",
            "icons": [
                {"src": static("fieldapp/icon.svg"), "sizes": "any", "type": "image/svg+xml"}
            ],
        },
        content_type="application/manifest+json",
        json_dumps_params={"ensure_ascii": False},
    )
