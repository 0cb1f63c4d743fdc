"""SLA and grab-pool policies (admin-edited) and per-crew pool statistics."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel
from grids.models import AreaClass

from .orders import WorkOrder


class SlaPolicy(TimeStampedModel):
    """Service commitments for one area class: crew on site within ``arrive_minutes`` of the
    request, supply restored within ``restore_minutes`` of arrival; a warning at
    ``warning_ratio`` of each period. Defaults (95598 commitments) come from a data migration.
    """

    area_class = models.CharField(
        _("area class"), max_length=8, choices=AreaClass.choices, unique=True
    )
    arrive_minutes = models.PositiveIntegerField(
        _("arrive within (minutes)"), validators=[MinValueValidator(1)]
    )
    restore_minutes = models.PositiveIntegerField(
        _("restore within (minutes of arrival)"), validators=[MinValueValidator(1)]
    )
    warning_ratio = models.FloatField(
        _("warning at (share of the period)"),
        default=0.8,
        validators=[MinValueValidator(0.1), MaxValueValidator(0.99)],
    )

    class Meta:
        ordering = ["area_class"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(arrive_minutes__gte=1, restore_minutes__gte=1),
                name="workorders_slapolicy_positive_periods",
            ),
            models.CheckConstraint(
                condition=Q(warning_ratio__gt=0, warning_ratio__lt=1),
                name="workorders_slapolicy_warning_ratio_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_area_class_display()}: {self.arrive_minutes}/{self.restore_minutes}"


class PoolPolicy(TimeStampedModel):
    """Grab-pool rules for a grid (empty: every grid) and an order kind (empty: every kind).

    The most specific enabled row applies (grid and kind, grid, kind, default). Urgent and
    danger orders are never pooled, whatever the policy says.
    """

    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=WorkOrder.Kind.choices, blank=True)
    enabled = models.BooleanField(_("pool allowed"), default=True)
    # New non-urgent orders go to the pool first instead of being dispatched.
    auto_publish = models.BooleanField(_("publish new orders automatically"), default=False)
    # Empty: the dispatch module's radius for the order's area class.
    radius_km = models.FloatField(
        _("radius (km)"), null=True, blank=True, validators=[MinValueValidator(0.1)]
    )
    ttl_seconds = models.PositiveIntegerField(
        _("time to live (seconds)"), default=300, validators=[MinValueValidator(10)]
    )
    max_claimed_per_crew = models.PositiveSmallIntegerField(
        _("claimed orders a crew may hold"), default=2, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["grid__code", "kind"]
        verbose_name = _("grab-pool policy")
        verbose_name_plural = _("grab-pool policies")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "kind"],
                condition=Q(grid__isnull=False),
                name="workorders_poolpolicy_unique_grid_kind",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(grid__isnull=True),
                name="workorders_poolpolicy_unique_default_kind",
            ),
            models.CheckConstraint(
                condition=Q(ttl_seconds__gte=10) & Q(max_claimed_per_crew__gte=1),
                name="workorders_poolpolicy_limits_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid or '*'} / {self.kind or '*'}"


class CrewPoolStats(models.Model):
    """Per-crew grab-pool counters: claims won, races lost, orders seen and left (skips)."""

    crew = models.OneToOneField("grids.Crew", on_delete=models.CASCADE, related_name="pool_stats")
    claims = models.PositiveIntegerField(_("claims"), default=0)
    lost_races = models.PositiveIntegerField(_("lost races"), default=0)
    skips = models.PositiveIntegerField(_("skips"), default=0)
    bonus_points = models.PositiveIntegerField(_("bonus points"), default=0)
    last_claim_at = models.DateTimeField(_("last claim at"), null=True, blank=True)

    class Meta:
        ordering = ["crew"]
        verbose_name = _("crew pool statistics")
        verbose_name_plural = _("crew pool statistics")

    def __str__(self) -> str:
        return f"{self.crew_id}: {self.claims}/{self.skips}"

    @property
    def skip_ratio(self) -> float:
        """Share of seen orders the crew left to others (high: cherry-picking)."""
        seen = self.claims + self.skips
        return self.skips / seen if seen else 0.0
