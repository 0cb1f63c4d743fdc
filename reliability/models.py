"""Frequent-outage policy and alerts, and stored daily reliability figures."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from reliability import frequency


class FrequentOutagePolicy(models.Model):
    """The numbers of the frequent-outage rules and of the indices (edited in the admin).

    Exactly one policy is active (a partial unique constraint); ``as_policy()`` hands the
    pure engine its frozen copy.
    """

    name = models.CharField(_("name"), max_length=64, default="广东省频繁停电标准")
    is_active = models.BooleanField(_("active"), default=True)
    momentary_max_minutes = models.PositiveIntegerField(
        _("momentary: at most (minutes)"), default=5
    )
    merge_gap_hours = models.FloatField(
        _("merge interruptions less than (hours) apart"),
        default=6,
        validators=[MinValueValidator(0)],
    )
    period = models.CharField(
        _("assessment period"),
        max_length=16,
        choices=[
            (frequency.PeriodKind.CALENDAR_YEAR.value, _("自然年")),
            (frequency.PeriodKind.ROLLING_365.value, _("滚动 365 天")),
        ],
        default=frequency.PeriodKind.CALENDAR_YEAR.value,
    )
    frequent_period_over = models.PositiveIntegerField(
        _("frequent: more than, in the period"), default=5
    )
    frequent_window_days = models.PositiveIntegerField(
        _("frequent: window (days)"), default=60, validators=[MinValueValidator(1)]
    )
    frequent_window_over = models.PositiveIntegerField(
        _("frequent: more than, in the window"), default=3
    )
    frequent_planned_over = models.PositiveIntegerField(
        _("frequent: more than, planned in the period"), default=3
    )
    warning_period_min = models.PositiveIntegerField(
        _("warning: at least, in the period"), default=4
    )
    warning_recent = models.JSONField(
        _("warning: exactly n in the last d days"),
        default=list,
        help_text=_("[[天数, 次数], ...]，默认 [[50, 3], [30, 2]]"),
    )
    exclude_major_event_days = models.BooleanField(_("exclude major-event days"), default=False)
    exclude_customer_side = models.BooleanField(_("exclude customer-side faults"), default=False)
    exclude_single_premise = models.BooleanField(_("exclude single-premise faults"), default=False)
    transformer_flag_frequent = models.PositiveIntegerField(
        _("flag a transformer at frequent customers"), default=3, validators=[MinValueValidator(1)]
    )
    feeder_flag_frequent = models.PositiveIntegerField(
        _("flag a feeder at frequent customers"), default=10, validators=[MinValueValidator(1)]
    )
    sustained_threshold_minutes = models.FloatField(
        _("indices: sustained when longer than (minutes)"),
        default=5,
        help_text=_("IEEE 1366: 5 分钟；DL/T 836: 3 分钟"),
        validators=[MinValueValidator(0)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("frequent-outage policy")
        verbose_name_plural = _("frequent-outage policies")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="reliability_policy_one_active",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_policy(self) -> frequency.Policy:
        recent = tuple((int(d), int(n)) for d, n in (self.warning_recent or [[50, 3], [30, 2]]))
        return frequency.Policy(
            momentary_max=timedelta(minutes=self.momentary_max_minutes),
            merge_gap=timedelta(hours=self.merge_gap_hours),
            period=frequency.PeriodKind(self.period),
            frequent_period_over=self.frequent_period_over,
            frequent_window_days=self.frequent_window_days,
            frequent_window_over=self.frequent_window_over,
            frequent_planned_over=self.frequent_planned_over,
            warning_period_min=self.warning_period_min,
            warning_recent=recent,
            exclude_major_event_days=self.exclude_major_event_days,
            exclude_customer_side=self.exclude_customer_side,
            exclude_single_premise=self.exclude_single_premise,
            timezone=settings.TIME_ZONE,
        )

    @property
    def sustained_threshold(self) -> timedelta:
        return timedelta(minutes=self.sustained_threshold_minutes)


class FrequentOutageAlert(models.Model):
    """A customer found warning or frequent, until its status improves.

    At most one open alert per customer and level (a partial unique constraint). Status
    moves only through ``services.alert_transition`` (open → closed), which writes the
    timeline (``FrequentOutageAlertEvent``).
    """

    class Level(models.TextChoices):
        WARNING = frequency.WARNING, _("预警")
        FREQUENT = frequency.FREQUENT, _("频繁停电")

    class Status(models.TextChoices):
        OPEN = "open", _("未关闭")
        CLOSED = "closed", _("已关闭")

    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        Status.OPEN: frozenset({Status.CLOSED}),
        Status.CLOSED: frozenset(),
    }

    service_point = models.ForeignKey(
        "grids.ServicePoint", on_delete=models.PROTECT, related_name="frequent_outage_alerts"
    )
    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    reasons = models.JSONField(_("reasons"), default=list)
    reason_codes = models.JSONField(_("reason codes"), default=list)
    counts = models.JSONField(_("counts"), default=dict)
    exclusions = models.JSONField(_("exclusions"), default=list, blank=True)
    period_start = models.DateField(_("period start"))
    # A digest of the content above (reason codes, counts, exclusions, period start), so the
    # nightly scan compares a million alerts without reading their JSON back (see
    # ``services._digest``); empty until the first scan writes it.
    content_digest = models.CharField(
        _("content digest"), max_length=32, blank=True, default="", editable=False
    )
    as_of = models.DateField(_("as of"))
    first_raised_at = models.DateTimeField(_("first raised at"))
    last_changed_at = models.DateTimeField(_("last changed at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    action_note = models.TextField(_("what was done"), blank=True)
    # The inspection work order raised from this alert. ``workorders`` sits above this app,
    # so the link is a plain id that the work-order service records through ours.
    work_order_id = models.BigIntegerField(_("inspection work order"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(_("close reason"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("frequent-outage alert")
        verbose_name_plural = _("frequent-outage alerts")
        ordering = ["-first_raised_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "level"], name="reliability_alert_status_idx"),
            models.Index(fields=["service_point", "status"], name="reliability_alert_sp_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service_point", "level"],
                condition=Q(status="open"),
                name="reliability_alert_one_open_per_level",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="reliability_alert_closed_at_iff_closed",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | Q(acknowledged_by__isnull=False),
                name="reliability_alert_acknowledged_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_point_id} {self.level} ({self.status})"


class FrequentOutageAlertEvent(models.Model):
    """The timeline of an alert: raised, changed, acknowledged, linked, closed."""

    class Kind(models.TextChoices):
        RAISED = "raised", _("产生")
        CHANGED = "changed", _("变化")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        LINKED = "linked", _("关联工单")
        CLOSED = "closed", _("关闭")

    alert = models.ForeignKey(FrequentOutageAlert, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind}"


class DailyReliability(models.Model):
    """One day's additive reliability totals for one scope and split.

    A year's indices are the sums of 365 rows per scope (one small query). ``scope_id`` is 0
    for the city. Interruptions are booked on the local day they start.
    """

    class Scope(models.TextChoices):
        CITY = "city", _("全市")
        DISTRICT = "district", _("区")
        GRID = "grid", _("网格")
        FEEDER = "feeder", _("馈线")

    class Split(models.TextChoices):
        ALL = "all", _("全部")
        PLANNED = "planned", _("计划")
        FAULT = "fault", _("故障")

    day = models.DateField(_("day"))
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices)
    scope_id = models.BigIntegerField(_("scope id"), default=0)
    split = models.CharField(_("split"), max_length=8, choices=Split.choices)
    customers_served = models.PositiveIntegerField(_("customers served"), default=0)
    customer_interruptions = models.PositiveIntegerField(_("customer interruptions"), default=0)
    customer_minutes = models.FloatField(_("customer minutes interrupted"), default=0)
    momentary_interruptions = models.PositiveIntegerField(_("momentary interruptions"), default=0)
    major_event_day = models.BooleanField(_("major-event day"), default=False)
    threshold_minutes = models.FloatField(_("sustained threshold (minutes)"), default=5)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily reliability figure")
        verbose_name_plural = _("daily reliability figures")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "scope_id", "split", "day"], name="reliability_daily_unique"
            )
        ]
        indexes = [
            models.Index(fields=["scope", "split", "day"], name="reliability_daily_scope_idx")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.scope}:{self.scope_id} {self.split}"
