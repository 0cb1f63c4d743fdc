"""Notifications to the public: subscriptions and the outbox of messages sent to them.

Only ``outages.notifications`` writes these rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel
from outages.models.outages import Outage


class Subscription(TimeStampedModel):
    """A member of the public asking to hear about one outage, or about an address.

    ``recipient`` is a phone number (``sms``) or an e-mail address (``email``): personal data
    that no public answer ever shows in full. Exactly one target is set: ``outage``, or
    ``address_norm`` (the normalised address of ``grids.address``, so every premise at that
    address counts). ``unsubscribed_at`` ends it; an address subscription also ends at
    ``expires_at``. At most one live subscription per channel, recipient and target.
    """

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("电子邮件")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", _("简体中文")
        EN = "en", _("English")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    outage = models.ForeignKey(
        Outage, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    # The address as the public saw it (lookup answers show it) and its normalised form.
    address = models.CharField(_("address"), max_length=200, blank=True)
    address_norm = models.CharField(_("normalised address"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(_("unsubscribed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [
            models.Index(
                fields=["address_norm"],
                condition=Q(unsubscribed_at__isnull=True) & ~Q(address_norm=""),
                name="outages_sub_address_live_idx",
            ),
            models.Index(fields=["recipient", "created_at"], name="outages_sub_recipient_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outage__isnull=False, address_norm="")
                | (Q(outage__isnull=True) & ~Q(address_norm="")),
                name="outages_subscription_one_target",
            ),
            models.UniqueConstraint(
                fields=["channel", "recipient", "outage"],
                condition=Q(unsubscribed_at__isnull=True, outage__isnull=False),
                name="outages_subscription_unique_live_outage",
            ),
            models.UniqueConstraint(
                fields=["channel", "recipient", "address_norm"],
                condition=Q(unsubscribed_at__isnull=True, outage__isnull=True),
                name="outages_subscription_unique_live_address",
            ),
        ]

    def __str__(self) -> str:
        target = f"outage {self.outage_id}" if self.outage_id else self.address
        return f"{self.channel} → {target}"

    @property
    def is_live(self) -> bool:
        return self.unsubscribed_at is None


class Notification(models.Model):
    """One message of the outbox: queued by an outage change, sent once by a task.

    ``event_key`` names the change (``etr:<EtrChange id>``, ``restored:<outage id>``,
    ``subscribed``); the unique (subscription, event_key) means the same change can never be
    queued twice for a subscriber. The sending task claims a row by moving it from queued to
    sending with a conditional update, so a task that runs twice sends once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="notifications"
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Subscription.Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    event_key = models.CharField(_("event key"), max_length=64)
    outage = models.ForeignKey(
        Outage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["status", "created_at"], name="outages_notif_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_key"], name="outages_notification_unique_event"
            ),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outages_notification_sent_at_iff_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.event_key} {self.status}"
