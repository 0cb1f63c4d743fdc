"""URLs of the hotline agent's page; mounted under /agent/ by ``dispatch_center/urls.py``."""

from django.urls import path

from outages.views import agent as agent_views

urlpatterns = [
    path("", agent_views.agent_home, name="agent-home"),
    path("calls", agent_views.agent_call_create, name="agent-call-create"),
]
