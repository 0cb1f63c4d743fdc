"""Root URLs. Each app mounts its own ``urls.py`` (pages) and ``api_urls`` (REST)."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from workorders import agent_views as workorder_agent_views

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # The API first, the outages app's (public look-up and reports) at the head: Django tries
    # the patterns in order, and in a storm nearly every request is one of those.
    path("api/v1/", include("outages.api.urls")),
    path("api/v1/", include("grids.api_urls")),
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/login/", views.RoleLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-ui"),
    path("api/v1/", include("reliability.api_urls")),
    path("api/v1/", include("workorders.reliability_urls")),
    path("api/v1/", include("workorders.api_urls")),
    path("api/v1/", include("complaints.api_urls")),
    path("api/v1/", include("fieldapp.api_urls")),
    # The dispatcher console (dispatchers and supervisors): /console/, /console/feed.json.
    path("console/", include("workorders.urls")),
    # The crews' phone app (its service worker is served from /crew/ for its scope).
    path("crew/", include("fieldapp.urls")),
    # The complaint desk and its bulletin.
    path("complaints/", include("complaints.urls")),
    # The supervisors' dashboard: figures, charts, downloads, the monthly report.
    path("dashboard/", include("dashboard.urls")),
    # The outages app's pages: the public map (/map/, report tracking, unsubscribing, the
    # snapshot files) and the hotline agent's page (/agent/).
    # The agent page's return visit on a closed order (served by workorders).
    path(
        "agent/return-visits",
        workorder_agent_views.return_visit_create,
        name="agent-return-visit",
    ),
    path("", include("outages.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
