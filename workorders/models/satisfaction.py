"""The customer's satisfaction with a closed work order, taken on a return call by an agent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .orders import WorkOrder


class SatisfactionVisit(models.Model):
    """A return visit on a *closed* order: who called the customer back, when, whether they
    were satisfied, and what they said. One per order and customer (a second call about the
    same order and premise is refused, not stacked)."""

    order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="satisfaction_visits"
    )
    service_point = models.ForeignKey(
        "grids.ServicePoint", on_delete=models.PROTECT, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    satisfied = models.BooleanField(_("satisfied"))
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("satisfaction visit")
        verbose_name_plural = _("satisfaction visits")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "service_point"],
                name="workorders_satisfactionvisit_once_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {'satisfied' if self.satisfied else 'not satisfied'}"
