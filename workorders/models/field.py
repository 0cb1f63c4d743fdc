"""What crews send from the field: idempotent action records, locations, photos, and the
hotline's return visits after closing."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .orders import WorkOrder


class CrewActionRecord(models.Model):
    """The first answer to a crew action sent with an ``Idempotency-Key``: a retry with the
    same key (per order and crew) gets this answer back and changes nothing."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    crew = models.ForeignKey("grids.Crew", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=100)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response = models.JSONField(_("response"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("crew action record")
        verbose_name_plural = _("crew action records")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "crew", "key"], name="workorders_crewaction_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.crew_id} {self.key}"


class CrewLocation(models.Model):
    """A position ping from a crew's phone, with the device's own timestamp."""

    crew = models.ForeignKey("grids.Crew", on_delete=models.CASCADE, related_name="locations")
    at = models.DateTimeField(_("at"))
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        ordering = ["crew", "at"]
        verbose_name = _("crew location")
        verbose_name_plural = _("crew locations")
        constraints = [
            # The app re-sends a batch it is unsure about: the same ping is stored once.
            models.UniqueConstraint(fields=["crew", "at"], name="workorders_crewlocation_unique"),
            models.CheckConstraint(
                condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="workorders_crewlocation_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crew_id} {self.at:%H:%M:%S}"


def _photo_path(instance: WorkOrderPhoto, filename: str) -> str:
    # The stored name never comes from the client: only the sniffed type's extension.
    return f"workorders/{instance.order_id}/{instance.sha256[:16]}.{instance.extension}"


class WorkOrderPhoto(models.Model):
    """A site photo sent with findings; its type is sniffed from the content, not the name."""

    EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="photos")
    crew = models.ForeignKey(
        "grids.Crew", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    image = models.FileField(_("image"), upload_to=_photo_path, max_length=200)
    content_type = models.CharField(_("content type"), max_length=16)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    original_name = models.CharField(_("original file name"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("work order photo")
        verbose_name_plural = _("work order photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png", "image/webp"]),
                name="workorders_photo_allowed_type",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.image.name}"

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, "bin")


class ReturnVisit(models.Model):
    """The customer's answer when called back after completion: supply confirmed or not,
    satisfaction 1–5. "Still off" raised ``follow_up`` (see ``work_order_return_visit``)."""

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="return_visits")
    restored_confirmed = models.BooleanField(_("customer confirms supply"))
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    note = models.TextField(_("note"), blank=True)
    service_point = models.ForeignKey(
        "grids.ServicePoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    follow_up = models.ForeignKey(
        WorkOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="workorders_returnvisit_satisfaction_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {'ok' if self.restored_confirmed else 'still off'}"
