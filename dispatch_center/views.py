"""Project-level pages: the health check and the home page."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health
from .core import roles


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


def landing_url(user: AbstractBaseUser | AnonymousUser) -> str:
    """Where a user lands after login without a ``next``: the page of their role (a hotline
    agent at the agent desk, a dispatcher or supervisor at the console), else the home page.
    Superusers see the home page, which links everything."""
    if getattr(user, "is_superuser", False):
        return reverse("home")
    if roles.has_role(user, roles.DISPATCHER, roles.SUPERVISOR):
        return reverse("console")
    if roles.has_role(user, roles.HOTLINE_AGENT):
        return reverse("agent-home")
    return reverse("home")


class RoleLoginView(auth_views.LoginView):
    """The login page; without a ``next`` the user lands on their role's page."""

    def get_default_redirect_url(self) -> str:
        return landing_url(self.request.user)
