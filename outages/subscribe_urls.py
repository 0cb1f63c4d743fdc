"""URLs of public subscriptions (API and the unsubscribe page); mounted at the site root."""

from django.urls import path

from outages.api import subscriptions as subscribe_api

urlpatterns = [
    path(
        "api/v1/public/subscriptions",
        subscribe_api.PublicSubscribeApi.as_view(),
        name="public-subscription-create",
    ),
    path(
        "api/v1/public/subscriptions/unsubscribe",
        subscribe_api.PublicUnsubscribeApi.as_view(),
        name="public-subscription-cancel",
    ),
    path("map/unsubscribe/<str:token>", subscribe_api.unsubscribe_page, name="public-unsubscribe"),
]
