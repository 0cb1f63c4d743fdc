"""Reads of the notifications: who an outage concerns, the outbox, a token's subscription."""

from __future__ import annotations

from datetime import datetime

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from grids.models import ServicePoint
from outages.models import Notification, Outage, Subscription
from outages.notifications.messages import UNSUBSCRIBE_SALT


def subscription_from_token(token: str) -> Subscription:
    """The subscription a token names; ``NotFound`` for a forged or unknown token."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        pk = int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(_("退订链接无效。")) from None
    subscription = Subscription.objects.select_related("outage").filter(pk=pk).first()
    if subscription is None:
        raise NotFound(_("退订链接无效。"))
    return subscription


def subscriptions_for_outage(*, outage: Outage, now: datetime | None = None) -> list[Subscription]:
    """Live subscriptions that ``outage`` concerns: to the outage itself, or to an address
    with a premise among its customers. One per (channel, recipient): a person following both
    the outage and their address hears once (the outage subscription is preferred)."""
    now = now or timezone.now()
    addresses = ServicePoint.objects.filter(interruptions__outage_id=outage.pk).values(
        "address_norm"
    )
    live = Q(unsubscribed_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    rows = (
        Subscription.objects.filter(live)
        .filter(Q(outage_id=outage.pk) | Q(outage__isnull=True, address_norm__in=addresses))
        .order_by(F("outage_id").asc(nulls_last=True), "pk")
    )
    chosen: dict[tuple[str, str], Subscription] = {}
    for subscription in rows:
        chosen.setdefault((subscription.channel, subscription.recipient), subscription)
    return list(chosen.values())


def notification_list(*, status: str | None = None) -> QuerySet[Notification]:
    """The outbox, newest first (admin, diagnostics)."""
    qs = Notification.objects.select_related("subscription").order_by("-created_at", "-pk")
    return qs.filter(status=status) if status else qs
