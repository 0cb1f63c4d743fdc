"""Spare parts (catalogue, each station's stock, the moves) and the customer's sign-off."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel


class SparePart(TimeStampedModel):
    """A spare part in the catalogue (edited in the admin)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=96)
    unit = models.CharField(_("unit"), max_length=16, default="个")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("spare part")
        verbose_name_plural = _("spare parts")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StationStock(TimeStampedModel):
    """How many of a part a repair station holds; never below zero (the constraint, and the
    services lock the row before changing it)."""

    station = models.ForeignKey(
        "grids.RepairStation", on_delete=models.CASCADE, related_name="part_stock"
    )
    part = models.ForeignKey(SparePart, on_delete=models.PROTECT, related_name="stock")
    quantity = models.IntegerField(_("quantity"), default=0)

    class Meta:
        ordering = ["station", "part"]
        verbose_name = _("station stock")
        verbose_name_plural = _("station stock")
        constraints = [
            models.UniqueConstraint(fields=["station", "part"], name="fieldapp_stock_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="fieldapp_stationstock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station_id}/{self.part_id}: {self.quantity}"


class PartMove(models.Model):
    """One movement of parts for a work order: taken from the station on request (the
    station's stock goes down), used on the order (from what the crew took for it), or
    returned unused (the stock goes back up). ``key`` is the app's Idempotency-Key."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("领用")
        USE = "use", _("消耗")
        RETURN = "return", _("退回")

    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    part = models.ForeignKey(SparePart, on_delete=models.PROTECT, related_name="moves")
    station = models.ForeignKey("grids.RepairStation", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    order = models.ForeignKey(
        "workorders.WorkOrder", on_delete=models.PROTECT, related_name="part_moves"
    )
    crew = models.ForeignKey("grids.Crew", on_delete=models.PROTECT, related_name="part_moves")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    at = models.DateTimeField(_("at (device time)"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("part move")
        verbose_name_plural = _("part moves")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fieldapp_partmove_positive"),
            models.UniqueConstraint(
                fields=["crew", "key"], condition=~Q(key=""), name="fieldapp_partmove_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} × {self.part_id} (order {self.order_id})"


def _signoff_path(instance: CustomerSignoff, filename: str) -> str:
    return f"signoffs/{instance.order_id}/{instance.kind}.png"


class CustomerSignoff(models.Model):
    """The customer's sign-off of an order: a signature drawn on the phone, or, with the
    customer absent, a photo of the site. One per order."""

    class Kind(models.TextChoices):
        SIGNATURE = "signature", _("签名")
        ABSENT = "absent", _("客户不在场")

    order = models.OneToOneField(
        "workorders.WorkOrder", on_delete=models.CASCADE, related_name="signoff"
    )
    crew = models.ForeignKey("grids.Crew", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    signer_name = models.CharField(_("signer"), max_length=64, blank=True)
    image = models.FileField(_("image"), upload_to=_signoff_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=16)
    at = models.DateTimeField(_("signed at (device time)"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer sign-off")
        verbose_name_plural = _("customer sign-offs")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"
