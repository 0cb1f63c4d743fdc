"""Pluggable senders of the notification outbox: one message to one recipient.

Senders implement ``send(recipient, subject, body)`` and raise ``ExternalServiceError`` for a
failure worth retrying (the outbox puts the row back and the task retries with backoff); any
other exception fails the row for good. ``NOTIFICATION_SENDER`` names the class (default
``LoggingSender``); ``NOTIFICATION_SENDERS`` may name one per channel, e.g.
``{"email": "outages.notifications.EmailSender"}`` (the package re-exports every sender).
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from dispatch_center.core.exceptions import ExternalServiceError
from outages.notifications.messages import mask_recipient

logger = logging.getLogger(__name__)


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
    sender: NotificationSender = import_string(str(path))()
    return sender
