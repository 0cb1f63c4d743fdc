"""Subscribing and unsubscribing: the writes of a member of the public's subscriptions.

A member of the public subscribes by phone (SMS) or e-mail to one outage or to an address
(``subscription_create``; the public endpoint is ``outages.api.subscriptions``) and cancels
with the signed token of the link in each message (``subscription_cancel``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids import selectors as grid_selectors
from grids.address import parse_address
from outages.models import Outage, Subscription
from outages.notifications.messages import KIND_SUBSCRIBED
from outages.notifications.outbox import _queue
from outages.notifications.selectors import subscription_from_token

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
SUBSCRIBABLE = Outage.ACTIVE | Outage.NOT_STARTED


class TooManySubscriptions(DomainError):
    """The recipient reached the daily number of new subscriptions."""

    code = "too_many_subscriptions"
    status_code = 429


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """The subscription and whether this call created it (False: it already existed)."""

    subscription: Subscription
    created: bool


def _invalid(field: str, message: str) -> DomainError:
    return DomainError(message, code="invalid", fields={field: [message]})


def _clean_recipient(channel: str, recipient: str) -> str:
    value = (recipient or "").strip()
    if channel == Subscription.Channel.SMS:
        value = re.sub(r"[\s-]", "", value)
        if value.startswith("+86"):
            value = value[3:]
        if not MOBILE_RE.match(value):
            raise _invalid("phone", _("请输入有效的 11 位手机号码。"))
        return value
    if channel == Subscription.Channel.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise _invalid("email", _("请输入有效的电子邮件地址。")) from None
        return value.lower()
    raise _invalid("channel", _("不支持的通知方式。"))


def _address_target(*, address: str, account_no: str) -> tuple[str, str]:
    """(display address, normalised address) of what the caller named; ``DomainError``."""
    fields = ("address", "address_norm")
    if account_no:
        sp = grid_selectors.service_point_for_account(account_no, fields=fields)
        if sp is None:
            raise _invalid("account_no", _("没有找到该户号。"))
        return sp.address, sp.address_norm
    norm = parse_address(address).norm
    found = grid_selectors.service_points_with_address(norm=norm, limit=1, fields=fields)
    if not found:
        raise _invalid("address", _("没有找到该地址，请从查询结果中选择地址后订阅。"))
    return found[0].address, found[0].address_norm


@transaction.atomic
def subscription_create(
    *,
    channel: str,
    recipient: str,
    language: str = Subscription.Language.ZH_HANS,
    outage_id: int | None = None,
    address: str = "",
    account_no: str = "",
) -> SubscribeResult:
    """Subscribe ``recipient`` to an outage (``outage_id``) or to an address (``address`` as a
    lookup answer shows it, or ``account_no``) and queue the confirmation message.

    Exactly one target. The outage must not be over (``Conflict``); an address must be one we
    serve. Subscribing again to the same target returns the live subscription unchanged
    (``created=False``, no second confirmation). At most
    ``NOTIFICATION_MAX_NEW_SUBSCRIPTIONS_PER_DAY`` new subscriptions per recipient a day, so
    the endpoint cannot be used to flood somebody's phone (``DomainError`` code
    ``TooManySubscriptions``, HTTP 429).
    """
    recipient = _clean_recipient(channel, recipient)
    if language not in Subscription.Language.values:
        language = Subscription.Language.ZH_HANS
    targets = sum(bool(x) for x in (outage_id, address.strip(), account_no.strip()))
    if targets != 1:
        raise _invalid("outage_id", _("请选择要订阅的停电事件或地址（只能选一个）。"))
    outage: Outage | None = None
    display, norm = "", ""
    if outage_id:
        outage = Outage.objects.select_related("type", "district").filter(pk=outage_id).first()
        if outage is None:
            raise _invalid("outage_id", _("没有找到该停电事件。"))
        if outage.status not in SUBSCRIBABLE:
            raise Conflict(_("该停电已经结束，无需订阅。"), code="outage_over")
    else:
        display, norm = _address_target(address=address.strip(), account_no=account_no.strip())

    existing = Subscription.objects.filter(
        channel=channel, recipient=recipient, unsubscribed_at__isnull=True
    ).filter(Q(outage=outage) if outage else Q(outage__isnull=True, address_norm=norm))
    found = existing.first()
    if found is not None:
        return SubscribeResult(subscription=found, created=False)

    now = timezone.now()
    limit = getattr(settings, "NOTIFICATION_MAX_NEW_SUBSCRIPTIONS_PER_DAY", 10)
    recent = Subscription.objects.filter(
        recipient=recipient, created_at__gte=now - timedelta(days=1)
    ).count()
    if recent >= limit:
        raise TooManySubscriptions(_("该号码或邮箱今天的订阅次数已达上限，请明天再试。"))
    days = getattr(settings, "NOTIFICATION_ADDRESS_SUBSCRIPTION_DAYS", 30)
    subscription = Subscription(
        channel=channel,
        recipient=recipient,
        language=language,
        outage=outage,
        address=display,
        address_norm=norm,
        expires_at=None if outage else now + timedelta(days=days),
    )
    subscription.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:
        # A concurrent identical request won the unique constraint: answer with its row.
        found = existing.first()
        if found is None:
            raise
        return SubscribeResult(subscription=found, created=False)
    _queue(
        [subscription],
        kind=KIND_SUBSCRIBED,
        event_key=KIND_SUBSCRIBED,
        outage=outage,
    )
    return SubscribeResult(subscription=subscription, created=True)


@transaction.atomic
def subscription_cancel(*, token: str) -> Subscription:
    """Unsubscribe the subscription a signed token names (idempotent); its queued messages
    are not sent. ``NotFound`` for a bad token."""
    subscription = subscription_from_token(token)
    if subscription.unsubscribed_at is None:
        now = timezone.now()
        Subscription.objects.filter(pk=subscription.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now, updated_at=now
        )
        subscription.unsubscribed_at = now
    return subscription
