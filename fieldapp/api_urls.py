"""REST endpoints of the crews' app, under /api/v1/crew/ next to the crew API."""

from django.urls import path

from . import api

urlpatterns = [
    path("crew/me", api.CrewMeApi.as_view(), name="crew-me"),
    path("crew/duty", api.CrewDutyApi.as_view(), name="crew-duty"),
    path("crew/parts", api.CrewPartsApi.as_view(), name="crew-parts"),
    path(
        "crew/orders/<int:order_id>/history",
        api.CrewOrderHistoryApi.as_view(),
        name="crew-order-history",
    ),
    path(
        "crew/orders/<int:order_id>/parts", api.CrewOrderPartsApi.as_view(), name="crew-order-parts"
    ),
    path(
        "crew/orders/<int:order_id>/signoff",
        api.CrewOrderSignoffApi.as_view(),
        name="crew-order-signoff",
    ),
]
