"""Notifications to the public: subscriptions, the outbox and its pluggable senders.

A member of the public subscribes by phone (SMS) or e-mail to one outage or to an address
(``subscription_create``; the public endpoint is ``outages.api.subscriptions``). When an outage's
estimated restoration time changes or it is restored, a subscriber of ``outage.etr_changed`` /
``outage.restored`` enqueues ``notifications_queue_task``, which writes one ``Notification``
row per subscriber (``notifications_queue_for_outage``) and one send task per row.

No duplicates, by construction:

- a row's ``event_key`` names the change (``etr:<EtrChange id>``, ``restored:<outage id>``) and
  (subscription, event_key) is unique, so queueing the same change twice inserts nothing new;
  a person subscribed both to the outage and to its address gets one message per change;
- ``notification_send`` claims the row with ``filter(pk=..., status="queued")
  .update(status="sending")`` and only the caller that changed one row sends. A send task that
  runs twice (a redelivery, a retry racing the sweeper) sends once.

Senders implement ``send(recipient, subject, body)`` and raise ``ExternalServiceError`` for a
failure worth retrying (the row goes back to queued and the task retries with backoff, up to
``MAX_ATTEMPTS``); any other exception fails the row for good. ``NOTIFICATION_SENDER`` names
the class (default ``LoggingSender``); ``NOTIFICATION_SENDERS`` may name one per channel,
e.g. ``{"email": "outages.notifications.EmailSender"}``.

Messages are Chinese, or English for a subscriber who chose English, and end with an
unsubscribe link carrying a signed token (``django.core.signing``) that names the subscription.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, ExternalServiceError, NotFound
from grids.address import normalize_identifier, parse_address
from grids.models import ServicePoint
from outages.models import EtrChange, Notification, Outage, Subscription

if TYPE_CHECKING:
    from outages.events import DomainEvent

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "outages.subscription.unsubscribe"
# One try plus the task's five retries.
MAX_ATTEMPTS = 6
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
SUBSCRIBABLE = Outage.ACTIVE | Outage.NOT_STARTED

KIND_ETR = "etr"
KIND_RESTORED = "restored"
KIND_SUBSCRIBED = "subscribed"


# --- senders -------------------------------------------------------------------------------


class NotificationSender(Protocol):
    """Delivers one message. Raises ``ExternalServiceError`` when a retry may succeed (the
    gateway timed out or answered 5xx); any other exception means the message cannot be
    delivered (a rejected number, a bad address)."""

    def send(self, recipient: str, subject: str, body: str) -> None: ...


class LoggingSender:
    """The default: writes the message to the log (development, the embedded demo)."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        logger.info("Notification to %s: %s | %s", mask_recipient(recipient), subject, body)


class EmailSender:
    """Sends through Django's e-mail backend (``EMAIL_*`` settings, ``DEFAULT_FROM_EMAIL``).

    Connection and SMTP errors are temporary (retried); the backend raises ``OSError`` /
    ``smtplib.SMTPException`` (a subclass of ``OSError``) for those.
    """

    def send(self, recipient: str, subject: str, body: str) -> None:
        try:
            send_mail(subject, body, None, [recipient], fail_silently=False)
        except OSError as exc:
            raise ExternalServiceError(f"e-mail not sent: {exc}") from exc


class SmsGatewaySender:
    """Base of an SMS gateway client: subclass it and implement ``deliver``.

    ``deliver`` sends one text and raises ``ExternalServiceError`` on a timeout or a 5xx, so
    the outbox retries; this base keeps the SMS to one text of ``MAX_LENGTH`` characters
    (the subject is left out: SMS has none).
    """

    MAX_LENGTH = 300

    def send(self, recipient: str, subject: str, body: str) -> None:
        self.deliver(recipient, body[: self.MAX_LENGTH])

    def deliver(self, phone: str, text: str) -> None:
        raise NotImplementedError("configure an SMS gateway sender (NOTIFICATION_SENDERS)")


def sender_for(channel: str) -> NotificationSender:
    """The configured sender of ``channel``: ``NOTIFICATION_SENDERS[channel]``, else
    ``NOTIFICATION_SENDER``, else ``LoggingSender``."""
    per_channel: dict[str, str] = getattr(settings, "NOTIFICATION_SENDERS", {}) or {}
    path = per_channel.get(channel) or getattr(
        settings, "NOTIFICATION_SENDER", "outages.notifications.LoggingSender"
    )
    sender: NotificationSender = import_string(path)()
    return sender


# --- masking and tokens --------------------------------------------------------------------


def mask_recipient(recipient: str) -> str:
    """A phone or e-mail address as a public answer may show it: ``138****8000``,
    ``z***@example.com``. Never the whole value."""
    value = recipient.strip()
    if "@" in value:
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) >= 7:
        return f"{value[:3]}****{value[-4:]}"
    return "****"


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed, URL-safe token naming ``subscription`` (no expiry: a link in an old message
    must still work)."""
    return signing.dumps({"s": subscription.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(subscription: Subscription) -> str:
    """The absolute unsubscribe link of ``subscription`` (``PUBLIC_BASE_URL``)."""
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("public-unsubscribe", args=[unsubscribe_token(subscription)])


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


# --- messages ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A composed message."""

    subject: str
    body: str


def _local(value: datetime, language: str) -> str:
    local = timezone.localtime(value)
    if language == Subscription.Language.EN:
        return local.strftime("%d %b %H:%M").lstrip("0")
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _name(obj: Any, language: str) -> str:
    if obj is None:
        return ""
    if language == Subscription.Language.EN and getattr(obj, "name_en", ""):
        return str(obj.name_en)
    return str(obj.name)


def _target(subscription: Subscription, outage: Outage | None) -> str:
    """What the subscriber follows, in words: the address, or the outage's place and type."""
    lang = subscription.language
    if subscription.address:
        return _("%(address)s所在区域的停电") % {"address": subscription.address}
    if outage is None:
        return _("该停电事件")
    district = _name(outage.district, lang)
    return _("%(district)s%(type)s（编号 %(id)s）") % {
        "district": district + (" " if district and lang == "en" else ""),
        "type": _name(outage.type, lang),
        "id": outage.pk,
    }


def compose(
    kind: str,
    *,
    subscription: Subscription,
    outage: Outage | None,
    etr: datetime | None = None,
    restored_at: datetime | None = None,
) -> Message:
    """The message of ``kind`` (``etr``, ``restored``, ``subscribed``) for ``subscription``,
    in its language, with the unsubscribe link."""
    lang = subscription.language
    with translation.override(lang):
        target = _target(subscription, outage)
        if kind == KIND_ETR:
            subject = _("停电预计恢复时间更新")
            if etr is not None:
                text = _("您关注的%(target)s，预计恢复供电时间更新为 %(etr)s。") % {
                    "target": target,
                    "etr": _local(etr, lang),
                }
            else:
                text = _("您关注的%(target)s，预计恢复时间正在重新评估。") % {"target": target}
        elif kind == KIND_RESTORED:
            subject = _("已恢复供电")
            text = _(
                "您关注的%(target)s已于 %(at)s 恢复供电。如仍无电，请拨打 95598 或在线报修。"
            ) % {"target": target, "at": _local(restored_at or timezone.now(), lang)}
        elif kind == KIND_SUBSCRIBED:
            subject = _("停电通知订阅成功")
            text = _("您已订阅%(target)s的进展通知：预计恢复时间变化和恢复供电时将通知您。") % {
                "target": target
            }
        else:
            raise ValueError(f"unknown notification kind {kind!r}")
        sign = _("【深圳供电】")
        footer = _("退订：%(url)s") % {"url": unsubscribe_url(subscription)}
        separator = " " if lang == Subscription.Language.EN else ""
        return Message(subject=str(subject), body=separator.join([sign + text, footer]))


# --- selectors -------------------------------------------------------------------------------


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


# --- subscribing ---------------------------------------------------------------------------


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
    if account_no:
        ident = normalize_identifier(account_no) or account_no.strip()
        sp = ServicePoint.objects.filter(account_no=ident).only("address", "address_norm").first()
        if sp is None:
            raise _invalid("account_no", _("没有找到该户号。"))
        return sp.address, sp.address_norm
    norm = parse_address(address).norm
    sp = ServicePoint.objects.filter(address_norm=norm).only("address", "address_norm").first()
    if sp is None:
        raise _invalid("address", _("没有找到该地址，请从查询结果中选择地址后订阅。"))
    return sp.address, sp.address_norm


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


# --- the outbox ----------------------------------------------------------------------------


def _queue(
    subscriptions: list[Subscription],
    *,
    kind: str,
    event_key: str,
    outage: Outage | None,
    etr: datetime | None = None,
    restored_at: datetime | None = None,
) -> list[int]:
    """Insert one queued row per subscription for ``event_key`` (existing ones are kept) and
    enqueue a send task for every row of this key still queued. Caller's transaction."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notification_send_task

    rows = []
    for subscription in subscriptions:
        message = compose(
            kind, subscription=subscription, outage=outage, etr=etr, restored_at=restored_at
        )
        rows.append(
            Notification(
                subscription=subscription,
                channel=subscription.channel,
                recipient=subscription.recipient,
                subject=message.subject,
                body=message.body,
                event_key=event_key,
                outage=outage,
            )
        )
    # The unique (subscription, event_key) turns a repeated change into no new row.
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    ids = list(
        Notification.objects.filter(
            subscription__in=[s.pk for s in subscriptions],
            event_key=event_key,
            status=Notification.Status.QUEUED,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit(notification_send_task, pk)
    return ids


@transaction.atomic
def notifications_queue_for_outage(
    *, outage_id: int, kind: str, etr: str | None = None
) -> list[int]:
    """Queue the message of one outage change for every subscriber it concerns; returns the
    ids of the rows still queued for it (a send task is enqueued for each on commit).

    ``kind`` ``etr`` (``etr``: the new ETR as ISO 8601, or None when cleared; the change is
    the newest ``EtrChange`` to that value, whose id makes the event key) or ``restored``.
    An ETR change of an outage that is no longer active is not sent (its restoration
    message says more). Safe to run twice: the second run inserts nothing.
    """
    outage = Outage.objects.select_related("type", "district", "cause").filter(pk=outage_id).first()
    if outage is None:
        logger.warning("Notifications: outage %s is gone", outage_id)
        return []
    if kind == KIND_ETR:
        if outage.status not in Outage.ACTIVE:
            return []
        new_etr = parse_datetime(etr) if etr else None
        change = (
            EtrChange.objects.filter(outage_id=outage_id, new_etr=new_etr)
            .order_by("-at", "-pk")
            .first()
        )
        if change is None:
            logger.warning("Notifications: no ETR change to %s on outage %s", etr, outage_id)
            return []
        return _queue(
            subscriptions_for_outage(outage=outage),
            kind=KIND_ETR,
            event_key=f"etr:{change.pk}",
            outage=outage,
            etr=new_etr,
        )
    if kind == KIND_RESTORED:
        if outage.restored_at is None:
            return []
        return _queue(
            subscriptions_for_outage(outage=outage),
            kind=KIND_RESTORED,
            event_key=f"restored:{outage.pk}",
            outage=outage,
            restored_at=outage.restored_at,
        )
    raise ValueError(f"unknown notification kind {kind!r}")


def notification_send(*, notification_id: int) -> str:
    """Send one queued notification at most once; returns ``sent``, ``skipped`` (somebody
    else claimed it, or it is not queued), ``failed`` or ``unsubscribed``.

    Deliberately not one transaction: the claim (queued → sending, attempts + 1) commits on
    its own before the network call, so no lock is held while the gateway answers, and a
    second task for the same row finds it claimed and sends nothing. An
    ``ExternalServiceError`` puts the row back to queued and is re-raised for the task to
    retry, until ``MAX_ATTEMPTS`` fails it.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=Notification.Status.QUEUED
    ).update(status=Notification.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if claimed != 1:
        return "skipped"
    row = Notification.objects.select_related("subscription").get(pk=notification_id)
    mine = Notification.objects.filter(pk=row.pk, status=Notification.Status.SENDING)
    if row.subscription.unsubscribed_at is not None:
        mine.update(status=Notification.Status.FAILED, last_error="unsubscribed")
        return "unsubscribed"
    try:
        sender_for(row.channel).send(row.recipient, row.subject, row.body)
    except ExternalServiceError as exc:
        if row.attempts >= MAX_ATTEMPTS:
            mine.update(status=Notification.Status.FAILED, last_error=str(exc)[:1000])
            logger.error("Notification %s failed after %s attempts", row.pk, row.attempts)
            return "failed"
        mine.update(status=Notification.Status.QUEUED, last_error=str(exc)[:1000])
        raise
    except Exception as exc:
        logger.exception("Notification %s cannot be delivered", row.pk)
        mine.update(status=Notification.Status.FAILED, last_error=repr(exc)[:1000])
        return "failed"
    mine.update(status=Notification.Status.SENT, sent_at=timezone.now(), last_error="")
    return "sent"


def notifications_sweep(*, now: datetime | None = None) -> tuple[list[int], int]:
    """The outbox's safety net: (ids of queued rows whose send task seems lost, to enqueue
    again; rows stuck in sending marked failed).

    A row left in ``sending`` belongs to a worker that died mid-send: the message may have
    gone out, so it is failed, never resent (no duplicates; the next change notifies again).
    """
    now = now or timezone.now()
    lost = list(
        Notification.objects.filter(
            status=Notification.Status.QUEUED,
            created_at__lte=now - timedelta(minutes=2),
            attempts__lt=MAX_ATTEMPTS,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - timedelta(minutes=10)))
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    stuck = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lte=now - timedelta(minutes=10)
    ).update(status=Notification.Status.FAILED, last_error="interrupted while sending")
    return lost, stuck


# --- event subscribers ---------------------------------------------------------------------


def on_etr_changed(event: DomainEvent) -> None:
    """Subscriber of ``outage.etr_changed``: queue the subscribers' messages (a task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notifications_queue_task

    enqueue_on_commit(
        notifications_queue_task, event.payload["outage_id"], KIND_ETR, event.payload.get("etr")
    )


def on_restored(event: DomainEvent) -> None:
    """Subscriber of ``outage.restored``: queue the restoration messages (a task)."""
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.tasks.notifications import notifications_queue_task

    enqueue_on_commit(notifications_queue_task, event.payload["outage_id"], KIND_RESTORED, None)
