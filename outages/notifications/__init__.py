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

Where things live: ``senders`` (delivery), ``messages`` (text, masking, unsubscribe links),
``selectors`` (reads), ``services`` (subscribe, unsubscribe), ``outbox`` (queue, send, sweep),
``subscribers`` (the domain-event hooks). The public names are re-exported here.
"""

from outages.notifications.messages import (
    KIND_ETR,
    KIND_NOTICE,
    KIND_RESTORED,
    KIND_SUBSCRIBED,
    Message,
    compose,
    mask_recipient,
    unsubscribe_token,
    unsubscribe_url,
)
from outages.notifications.outbox import (
    MAX_ATTEMPTS,
    notice_recipients_enrol,
    notification_send,
    notifications_queue_for_outage,
    notifications_sweep,
)
from outages.notifications.selectors import (
    notification_list,
    subscription_from_token,
    subscriptions_for_outage,
)
from outages.notifications.senders import (
    EmailSender,
    LoggingSender,
    NotificationSender,
    SmsGatewaySender,
    sender_for,
)
from outages.notifications.services import (
    SubscribeResult,
    TooManySubscriptions,
    subscription_cancel,
    subscription_create,
)
from outages.notifications.subscribers import on_etr_changed, on_notice_published, on_restored

__all__ = [
    "KIND_ETR",
    "KIND_NOTICE",
    "KIND_RESTORED",
    "KIND_SUBSCRIBED",
    "MAX_ATTEMPTS",
    "EmailSender",
    "LoggingSender",
    "Message",
    "NotificationSender",
    "SmsGatewaySender",
    "SubscribeResult",
    "TooManySubscriptions",
    "compose",
    "mask_recipient",
    "notice_recipients_enrol",
    "notification_list",
    "notification_send",
    "notifications_queue_for_outage",
    "notifications_sweep",
    "on_etr_changed",
    "on_notice_published",
    "on_restored",
    "sender_for",
    "subscription_cancel",
    "subscription_create",
    "subscription_from_token",
    "subscriptions_for_outage",
    "unsubscribe_token",
    "unsubscribe_url",
]
