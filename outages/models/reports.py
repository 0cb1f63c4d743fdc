"""Calls and telemetry: trouble reports, SCADA switch events, the hotline's call log.

A ``TroubleReport`` is one call (or alarm), saved first whatever happens next; the intake
resolves it to a service point and merges it into an outage or leaves it to the roll-up.
``ScadaEvent`` records each switch-state event from the gateway once. ``CallLog`` is what the
hotline agent recorded about a call. Only ``outages.services`` writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel
from outages.models.outages import Outage


class TroubleReport(TimeStampedModel):
    """A call reporting trouble (hotline, web, app, WeChat or a SCADA alarm).

    Saved first, whatever happens next; the intake resolves it to a service point, merges it
    into a known outage or leaves it to the roll-up engine.
    """

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("95598热线")
        WEB = "web", _("网站")
        APP = "app", _("手机应用")
        WECHAT = "wechat", _("微信")
        SCADA = "scada", _("调度自动化")

    class Symptom(models.TextChoices):
        NO_POWER = "no_power", _("无电")
        PARTIAL_POWER = "partial_power", _("部分无电")
        FLICKER = "flicker", _("电压不稳/闪烁")
        SPARKS = "sparks", _("冒火花")
        WIRE_DOWN = "wire_down", _("电线断落")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已受理")
        NEEDS_RESOLUTION = "needs_resolution", _("待定位地址")
        PENDING = "pending", _("待研判")
        MERGED = "merged", _("已合并")
        PREDICTED = "predicted", _("已生成停电事件")
        SINGLE_PREMISE = "single_premise", _("单户故障")
        CLOSED = "closed", _("已关闭")

    DANGER_SYMPTOMS = frozenset({Symptom.SPARKS, Symptom.WIRE_DOWN})

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    contact_phone = models.CharField(_("contact phone"), max_length=20, db_index=True)
    contact_name = models.CharField(_("contact name"), max_length=64, blank=True)
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trouble_reports",
    )
    raw_address = models.CharField(_("address as given"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    symptom = models.CharField(_("symptom"), max_length=16, choices=Symptom.choices)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    outage = models.ForeignKey(
        Outage, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    # Idempotency keys are chosen by clients, so they are unique per client identity.
    idempotency_client = models.CharField(_("client identity"), max_length=64, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True)
    # SHA-256 of the submitted body: a retry with the same key but another body is refused.
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    # The account number as the caller gave it (an agent resolves it when it matched nothing).
    raw_account_no = models.CharField(_("account number as given"), max_length=32, blank=True)
    received_at = models.DateTimeField(_("received at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("trouble report")
        verbose_name_plural = _("trouble reports")
        indexes = [
            models.Index(fields=["status", "received_at"], name="outages_report_rollup_idx"),
            models.Index(fields=["service_point", "received_at"], name="outages_report_sp_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_client", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="outages_troublereport_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(
                    lat__isnull=False,
                    lng__isnull=False,
                    lat__gte=-90,
                    lat__lte=90,
                    lng__gte=-180,
                    lng__lte=180,
                ),
                name="outages_troublereport_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_danger(self) -> bool:
        """Sparks or a wire down: a public-safety call, handled before everything else."""
        return self.symptom in self.DANGER_SYMPTOMS


class ScadaEvent(models.Model):
    """One switch-state event from the SCADA/DMS gateway, applied at most once.

    A gateway retries deliveries: ``(device, event, at)`` is unique, so a repeated event finds
    its row and changes nothing. ``outcome`` says what the event did (``outages.services.scada``);
    an event older than the last one applied to its device is recorded as ``stale`` only.
    """

    class Event(models.TextChoices):
        OPEN = "open", _("分闸")
        CLOSE = "close", _("合闸")

    device = models.ForeignKey(
        "grids.Device", on_delete=models.PROTECT, related_name="+", verbose_name=_("device")
    )
    event = models.CharField(_("event"), max_length=8, choices=Event.choices)
    at = models.DateTimeField(_("at"))
    commanded = models.BooleanField(_("commanded"), default=False)
    received_at = models.DateTimeField(_("received at"))
    outcome = models.CharField(_("outcome"), max_length=24, blank=True)
    outage = models.ForeignKey(
        Outage, on_delete=models.SET_NULL, null=True, blank=True, related_name="scada_events"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("SCADA event")
        verbose_name_plural = _("SCADA events")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "event", "at"], name="outages_scadaevent_unique_delivery"
            )
        ]
        indexes = [models.Index(fields=["device", "at"], name="outages_scadaevent_device_idx")]

    def __str__(self) -> str:
        return f"{self.device_id} {self.event} {self.at:%Y-%m-%d %H:%M:%S}"


class CallLog(TimeStampedModel):
    """One hotline call as the agent recorded it: a fault report (with its ``TroubleReport``)
    or an enquiry (no report). ``told`` is what the caller was told, word for word."""

    class Kind(models.TextChoices):
        FAULT = "fault", _("故障报修")
        ENQUIRY = "enquiry", _("停电咨询")
        # The complaint itself lives in the complaints app; this row keeps the call.
        COMPLAINT = "complaint", _("投诉")

    kind = models.CharField(_("kind"), max_length=9, choices=Kind.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    caller_phone = models.CharField(_("caller phone"), max_length=20, blank=True)
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    outage = models.ForeignKey(
        Outage, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    report = models.ForeignKey(
        TroubleReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="calls"
    )
    note = models.TextField(_("note"), blank=True)
    told = models.TextField(_("told the caller"), blank=True)
    # From the caller being found on the agent page to the call being recorded (None when
    # the call was recorded by another client that does not measure it).
    handling_seconds = models.PositiveIntegerField(_("handling time (s)"), null=True, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("call log entry")
        verbose_name_plural = _("call log")
        indexes = [models.Index(fields=["service_point", "at"], name="outages_call_sp_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="fault") | Q(report__isnull=True),
                name="outages_calllog_enquiry_has_no_report",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"
