"""Project-level pages: the health check and the home page."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and Redis answer, 503 naming the one that does not."""
    body = {"database": health.database_status(), "redis": health.redis_status()}
    down = [name for name, state in body.items() if state.startswith("error")]
    return JsonResponse(body | ({"down": down} if down else {}), status=503 if down else 200)


def home(request: HttpRequest) -> HttpResponse:
    """Landing page linking the application's pages."""
    return render(request, "home.html")
