"""The notification outbox: one row per subscriber per change, each sent at most once.

No duplicates, by construction:

- a row's ``event_key`` names the change (``etr:<EtrChange id>``, ``restored:<outage id>``) and
  (subscription, event_key) is unique, so queueing the same change twice inserts nothing new;
  a person subscribed both to the outage and to its address gets one message per change;
- ``notification_send`` claims the row with ``filter(pk=..., status="queued")
  .update(status="sending")`` and only the caller that changed one row sends. A send task that
  runs twice (a redelivery, a retry racing the sweeper) sends once.

A failure worth retrying (``ExternalServiceError``) puts the row back to queued and the task
retries with backoff, up to ``MAX_ATTEMPTS``; any other exception fails the row for good.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dispatch_center.core.exceptions import ExternalServiceError
from outages.models import EtrChange, Interruption, Notification, Outage, Subscription
from outages.notifications.messages import KIND_ETR, KIND_NOTICE, KIND_RESTORED, compose
from outages.notifications.selectors import subscriptions_for_outage
from outages.notifications.senders import sender_for

logger = logging.getLogger(__name__)

# One try plus the task's five retries.
MAX_ATTEMPTS = 6


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


def notice_recipients_enrol(*, outage: Outage) -> int:
    """Subscribe every customer ``outage`` will cut off who has a phone on file (SMS, to this
    outage), so its notice, ETR changes and restoration reach them through the outbox; each
    message carries the unsubscribe link. A live subscription already there is kept (the
    unique live-outage constraint), so running twice adds nothing. Returns rows inserted."""
    phones = (
        Interruption.objects.filter(outage=outage)
        .exclude(service_point__phone="")
        .values_list("service_point__phone", flat=True)
        .distinct()
    )
    expires = outage.planned_end_at
    rows = [
        Subscription(
            channel=Subscription.Channel.SMS,
            recipient=phone,
            outage=outage,
            expires_at=expires,
        )
        for phone in phones.iterator(chunk_size=2000)
    ]
    before = Subscription.objects.filter(outage=outage).count()
    Subscription.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Subscription.objects.filter(outage=outage).count() - before


@transaction.atomic
def notifications_queue_for_outage(
    *, outage_id: int, kind: str, etr: str | None = None
) -> list[int]:
    """Queue the message of one outage change for every subscriber it concerns; returns the
    ids of the rows still queued for it (a send task is enqueued for each on commit).

    ``kind`` ``etr`` (``etr``: the new ETR as ISO 8601, or None when cleared; the change is
    the newest ``EtrChange`` to that value, whose id makes the event key), ``restored``, or
    ``notice`` (a planned outage's published notice: its customers with a phone on file are
    enrolled first, ``notice_recipients_enrol``).
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
    if kind == KIND_NOTICE:
        if outage.notice_published_at is None or outage.status not in Outage.OPEN:
            return []
        notice_recipients_enrol(outage=outage)
        return _queue(
            subscriptions_for_outage(outage=outage),
            kind=KIND_NOTICE,
            event_key=f"notice:{outage.pk}",
            outage=outage,
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
