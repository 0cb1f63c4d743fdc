"""``GET|POST /map/unsubscribe/<token>``: the page the link in each notification opens.

GET asks, POST (with Django's CSRF token) unsubscribes. GET changes nothing, so a mail scanner
that follows links cannot unsubscribe anybody. The API twin is ``outages.api.subscriptions``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dispatch_center.core.exceptions import DomainError, NotFound
from outages.notifications import mask_recipient, subscription_cancel, subscription_from_token


@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """The unsubscribe link's page: GET shows what would be cancelled, POST cancels."""
    context: dict[str, Any] = {"token": token, "done": False, "invalid": False}
    try:
        subscription = (
            subscription_cancel(token=token)
            if request.method == "POST"
            else subscription_from_token(token)
        )
    except (NotFound, DomainError):
        context["invalid"] = True
        return render(request, "outages/unsubscribe.html", context, status=404)
    context.update(
        done=request.method == "POST" or subscription.unsubscribed_at is not None,
        recipient=mask_recipient(subscription.recipient),
        target=subscription.address or (_("停电事件 %(id)s") % {"id": subscription.outage_id}),
    )
    return render(request, "outages/unsubscribe.html", context)
