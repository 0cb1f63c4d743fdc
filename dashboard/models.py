"""Stored daily figures and agent points.

``DailyFigure`` rows are computed on the ``analytics`` queue (``dashboard.services``) so that
the page reads a small table: one row per day, figure and scope (district, grid, crew, and a
dimension such as a channel or an agent), stored at each level (city, district, grid, crew) so
that a read takes the rows of one level only. Scope columns are plain ids, not foreign keys: the
rows are a derived copy, replaced whenever a day is computed again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.i18n import pick_name
from dispatch_center.core.models import TimeStampedModel


class DailyFigure(models.Model):
    """(total, count) of one figure on one day in one scope; see ``dashboard.figures``."""

    class Level(models.TextChoices):
        CITY = "city", _("全市")
        DISTRICT = "district", _("行政区")
        GRID = "grid", _("网格")
        CREW = "crew", _("班组")

    day = models.DateField(_("day"))
    figure = models.CharField(_("figure"), max_length=32)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    district_id = models.PositiveIntegerField(_("district id"), null=True, blank=True)
    grid_id = models.PositiveIntegerField(_("grid id"), null=True, blank=True)
    crew_id = models.PositiveIntegerField(_("crew id"), null=True, blank=True)
    dimension = models.CharField(_("dimension"), max_length=40, blank=True, default="")
    total = models.FloatField(_("total"))
    count = models.FloatField(_("count"))

    class Meta:
        ordering = ["day", "figure"]
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        indexes = [
            models.Index(fields=["level", "day"], name="dashboard_daily_level_day_idx"),
            models.Index(
                fields=["level", "district_id", "day"], name="dashboard_daily_district_idx"
            ),
            models.Index(fields=["level", "grid_id", "day"], name="dashboard_daily_grid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.figure}"


class PointItem(models.Model):
    """An item agents earn points for (admin-edited). ``rule`` names the recorded event that
    awards it automatically; items without a rule are awarded by hand with a reason."""

    class Klass(models.TextChoices):
        QUALITY = "quality", _("质量")
        EFFICIENCY = "efficiency", _("效率")
        ATTITUDE = "attitude", _("态度")

    class Rule(models.TextChoices):
        MANUAL = "", _("人工加减分")
        FIRST_CALL = "first_call_resolution", _("一次解决")
        FAST_HANDLING = "handling_under_target", _("处理时长低于目标")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    klass = models.CharField(_("class"), max_length=12, choices=Klass.choices)
    points = models.SmallIntegerField(_("points"))
    rule = models.CharField(_("automatic rule"), max_length=32, choices=Rule.choices, blank=True)
    target_seconds = models.PositiveIntegerField(_("target (s)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["klass", "sort_order", "code"]
        verbose_name = _("points item")
        verbose_name_plural = _("points items")
        constraints = [
            models.CheckConstraint(
                condition=~Q(rule="handling_under_target") | Q(target_seconds__isnull=False),
                name="dashboard_pointitem_target_for_handling_rule",
            )
        ]

    def __str__(self) -> str:
        return f"{pick_name(self.name, self.name_en)} ({self.points:+d})"


class PointAward(TimeStampedModel):
    """Points given to an agent: automatically for a recorded event (``source_key`` makes it
    once only) or by hand (``awarded_by`` and ``reason``). Never deleted: the running total
    is the sum of all awards."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="point_awards"
    )
    item = models.ForeignKey(PointItem, on_delete=models.PROTECT, related_name="awards")
    points = models.SmallIntegerField(_("points"))
    awarded_at = models.DateTimeField(_("awarded at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)
    source_key = models.CharField(_("source"), max_length=64, null=True, blank=True, unique=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-awarded_at", "-pk"]
        verbose_name = _("points award")
        verbose_name_plural = _("points awards")
        constraints = [
            models.CheckConstraint(
                condition=Q(source_key__isnull=False) | ~Q(reason=""),
                name="dashboard_pointaward_manual_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.points:+d}"
