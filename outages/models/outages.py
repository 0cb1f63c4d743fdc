"""The outage information pool: taxonomy, outages, their timeline, interruptions.

*Taxonomy* (``OutageCategory``, ``OutageType``, ``OutageCause``) is reference data loaded by a
data migration and edited in the admin. An ``Outage`` is one event of lost supply below one or
more devices; its per-customer ``Interruption`` rows say who lost supply and when each got it
back (partial restoration ends them device by device). ``OutageEvent`` is the timeline and
``EtrChange`` the history of the estimated restoration time.

Only ``outages.services`` writes these rows; its ``outage_transition`` alone changes
``Outage.status`` (compare-and-set on the current status, see STYLE.md §3).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import ActorRecord, TimelineEvent, TimeStampedModel


class Priority(models.IntegerChoices):
    """Default urgency of the work raised for an outage type (1 is the most urgent)."""

    URGENT = 1, _("紧急")
    HIGH = 2, _("高")
    NORMAL = 3, _("普通")
    LOW = 4, _("低")


class OutageCategory(models.Model):
    """One of the four outage categories (计划 / 临时 / 故障 / 限电及其他)."""

    class Code(models.TextChoices):
        PLANNED = "planned", _("计划停电")
        TEMPORARY = "temporary", _("临时停电")
        FAULT = "fault", _("故障停电")
        OTHER = "other", _("限电及其他")

    # Categories whose outages are announced and started on a schedule.
    SCHEDULED_CODES = frozenset({Code.PLANNED, Code.TEMPORARY, Code.OTHER})

    code = models.CharField(_("code"), max_length=16, choices=Code.choices, unique=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)
    description = models.TextField(_("description"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("outage category")
        verbose_name_plural = _("outage categories")

    def __str__(self) -> str:
        return self.name


class OutageType(models.Model):
    """One of the 17 outage types, with its notice rule and reliability treatment."""

    class NoticeRule(models.TextChoices):
        NONE = "none", _("无需提前通知")
        ALL_CUSTOMERS = "all", _("提前通知所有用户")
        IMPORTANT_CUSTOMERS = "important", _("提前通知重要用户")

    category = models.ForeignKey(OutageCategory, on_delete=models.PROTECT, related_name="types")
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)
    counts_in_reliability = models.BooleanField(_("counts in reliability indices"), default=True)
    notice_rule = models.CharField(
        _("notice rule"), max_length=12, choices=NoticeRule.choices, default=NoticeRule.NONE
    )
    # How long before the start the notice must be out; null when no notice is required.
    notice_period = models.DurationField(_("notice period"), null=True, blank=True)
    default_priority = models.PositiveSmallIntegerField(
        _("default priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["category__sort_order", "sort_order", "code"]
        verbose_name = _("outage type")
        verbose_name_plural = _("outage types")
        constraints = [
            models.CheckConstraint(
                condition=Q(notice_rule="none", notice_period__isnull=True)
                | (~Q(notice_rule="none") & Q(notice_period__isnull=False)),
                name="outages_outagetype_notice_period_matches_rule",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OutageCause(models.Model):
    """A cause code a crew or dispatcher records on an outage."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=32)
    name_en = models.CharField(_("English name"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("outage cause")
        verbose_name_plural = _("outage causes")

    def __str__(self) -> str:
        return self.name


class Outage(TimeStampedModel):
    """An outage: supply lost below ``device`` (and ``extra_devices``), or at one premise.

    Invariants (named constraints below): ``restored_at`` is set iff the status is restored or
    closed; ``closed_at`` iff closed or cancelled; ``started_at`` is set once customers are
    out (every status but scheduled, notified and cancelled); the planned window is complete
    and ordered; ``0 <= customers_restored <= customers_affected``. ``version`` grows by one on
    every change, so the public map can tell what changed since its last snapshot.
    """

    class Status(models.TextChoices):
        PREDICTED = "predicted", _("研判中")
        CONFIRMED = "confirmed", _("已确认")
        CREW_DISPATCHED = "crew_dispatched", _("已派工")
        CREW_ON_SITE = "crew_on_site", _("抢修中")
        PARTIALLY_RESTORED = "partially_restored", _("部分恢复")
        SCHEDULED = "scheduled", _("已计划")
        NOTIFIED = "notified", _("已公告")
        IN_PROGRESS = "in_progress", _("停电中")
        RESTORED = "restored", _("已恢复")
        CLOSED = "closed", _("已归档")
        CANCELLED = "cancelled", _("已取消")

    class Source(models.TextChoices):
        ROLLUP = "rollup", _("报修研判")
        SCADA = "scada", _("调度自动化")
        CREW = "crew", _("抢修人员上报")
        DISPATCHER = "dispatcher", _("调度员录入")
        PLANNED = "planned", _("计划停电")

    S = Status
    # The transition table. Fault path: predicted → confirmed → crew_dispatched → crew_on_site
    # → (partially_restored) → restored → closed, with the shortcuts a dispatcher needs:
    # a crew may be sent to (or reach) a predicted outage, which confirms it; supply may come
    # back by remote switching before a crew is sent (confirmed → restored) or by itself
    # (predicted → restored); a crew may be withdrawn (crew_dispatched → confirmed). Planned
    # path: scheduled → notified → in_progress → (partially_restored) → restored → closed;
    # an outage needing no notice may start from scheduled. Cancelled from every open state
    # before full restoration; a restored outage is closed, never cancelled (a customer still
    # off after restoration gets a nested outage instead).
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        S.PREDICTED: frozenset(
            {
                S.CONFIRMED,
                S.CREW_DISPATCHED,
                S.CREW_ON_SITE,
                S.PARTIALLY_RESTORED,
                S.RESTORED,
                S.CANCELLED,
            }
        ),
        S.CONFIRMED: frozenset(
            {S.CREW_DISPATCHED, S.CREW_ON_SITE, S.PARTIALLY_RESTORED, S.RESTORED, S.CANCELLED}
        ),
        S.CREW_DISPATCHED: frozenset(
            {S.CONFIRMED, S.CREW_ON_SITE, S.PARTIALLY_RESTORED, S.RESTORED, S.CANCELLED}
        ),
        S.CREW_ON_SITE: frozenset({S.PARTIALLY_RESTORED, S.RESTORED, S.CANCELLED}),
        S.PARTIALLY_RESTORED: frozenset({S.RESTORED, S.CANCELLED}),
        S.SCHEDULED: frozenset({S.NOTIFIED, S.IN_PROGRESS, S.CANCELLED}),
        S.NOTIFIED: frozenset({S.IN_PROGRESS, S.CANCELLED}),
        S.IN_PROGRESS: frozenset({S.PARTIALLY_RESTORED, S.RESTORED, S.CANCELLED}),
        S.RESTORED: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
        S.CANCELLED: frozenset(),
    }
    TERMINAL = frozenset({S.CLOSED, S.CANCELLED})
    OPEN = frozenset(set(S) - TERMINAL)
    # Customers are out right now (some may already be back in partially_restored).
    ACTIVE = frozenset(
        {
            S.PREDICTED,
            S.CONFIRMED,
            S.CREW_DISPATCHED,
            S.CREW_ON_SITE,
            S.PARTIALLY_RESTORED,
            S.IN_PROGRESS,
        }
    )
    NOT_STARTED = frozenset({S.SCHEDULED, S.NOTIFIED})
    del S

    type = models.ForeignKey(OutageType, on_delete=models.PROTECT, related_name="outages")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    device = models.ForeignKey(
        "grids.Device",
        on_delete=models.PROTECT,
        related_name="outages",
        verbose_name=_("main device"),
    )
    extra_devices = models.ManyToManyField(
        "grids.Device", blank=True, related_name="+", verbose_name=_("other devices")
    )
    # Set for a single-premise outage: only this service point is out, not all below device.
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("single premise"),
    )
    cause = models.ForeignKey(
        OutageCause, on_delete=models.PROTECT, null=True, blank=True, related_name="outages"
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent outage"),
    )
    # The top of the nesting tree (null for a top-level outage); see Interruption.root.
    root = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="descendants",
        verbose_name=_("root outage"),
    )
    depth = models.PositiveSmallIntegerField(_("nesting depth"), default=0)

    started_at = models.DateTimeField(_("started at"), null=True, blank=True, db_index=True)
    etr = models.DateTimeField(_("estimated restoration"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Kept in sync from the interruptions by the services (see Interruption.already_out_in).
    customers_affected = models.PositiveIntegerField(_("customers affected"), default=0)
    customers_restored = models.PositiveIntegerField(_("customers restored"), default=0)

    description = models.TextField(_("public description"), blank=True)
    district = models.ForeignKey(
        "grids.District", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    planned_start_at = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end_at = models.DateTimeField(_("planned end"), null=True, blank=True)
    notice_published_at = models.DateTimeField(_("notice published at"), null=True, blank=True)
    notice_override_reason = models.TextField(_("notice rule override reason"), blank=True)

    # Simplified GeoJSON geometry (WGS-84) around the affected service points, for the map.
    area = models.JSONField(_("area"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        indexes = [
            models.Index(fields=["status", "planned_start_at"], name="outages_outage_planned_idx"),
            models.Index(fields=["district", "status"], name="outages_outage_district_idx"),
            models.Index(fields=["updated_at"], name="outages_outage_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(restored_at__isnull=False, status__in=["restored", "closed"])
                | (Q(restored_at__isnull=True) & ~Q(status__in=["restored", "closed"])),
                name="outages_outage_restored_at_iff_restored",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=False, status__in=["closed", "cancelled"])
                | (Q(closed_at__isnull=True) & ~Q(status__in=["closed", "cancelled"])),
                name="outages_outage_closed_at_iff_finished",
            ),
            models.CheckConstraint(
                condition=Q(started_at__isnull=False)
                | Q(status__in=["scheduled", "notified", "cancelled"]),
                name="outages_outage_started_once_out",
            ),
            models.CheckConstraint(
                condition=Q(restored_at__isnull=True) | Q(restored_at__gte=F("started_at")),
                name="outages_outage_restored_after_start",
            ),
            models.CheckConstraint(
                condition=Q(planned_start_at__isnull=True, planned_end_at__isnull=True)
                | Q(
                    planned_start_at__isnull=False,
                    planned_end_at__isnull=False,
                    planned_end_at__gt=F("planned_start_at"),
                ),
                name="outages_outage_planned_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(customers_restored__lte=F("customers_affected")),
                name="outages_outage_restored_not_above_affected",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, root__isnull=True, depth=0)
                | Q(parent__isnull=False, root__isnull=False, depth__gte=1),
                name="outages_outage_nesting_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def customers_out(self) -> int:
        """Customers of this outage still without supply."""
        return self.customers_affected - self.customers_restored

    @property
    def root_id_or_self(self) -> int:
        """The id of the top of this outage's nesting tree."""
        return self.root_id or self.pk

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_planned(self) -> bool:
        return self.planned_start_at is not None


class OutageEvent(TimelineEvent):
    """One line of an outage's timeline: a status change, an ETR change, a restored device..."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        STATUS_CHANGED = "status_changed", _("状态变更")
        ETR_CHANGED = "etr_changed", _("预计恢复时间变更")
        DEVICE_RESTORED = "device_restored", _("设备复电")
        CUSTOMERS_ADDED = "customers_added", _("停电范围扩大")
        NESTED_OPENED = "nested_opened", _("新增嵌套停电")
        NOTICE_PUBLISHED = "notice_published", _("发布停电公告")
        NOTICE_OVERRIDDEN = "notice_overridden", _("未满足提前通知要求")
        CAUSE_SET = "cause_set", _("原因变更")
        DESCRIPTION_CHANGED = "description_changed", _("说明变更")
        NOTE = "note", _("备注")

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=20, choices=Outage.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=20, choices=Outage.Status.choices, blank=True
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("outage event")
        verbose_name_plural = _("outage events")
        indexes = [models.Index(fields=["outage", "at"], name="outages_event_outage_at_idx")]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class EtrChange(ActorRecord):
    """One change of an outage's estimated restoration time."""

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="etr_changes")
    old_etr = models.DateTimeField(_("old ETR"), null=True, blank=True)
    new_etr = models.DateTimeField(_("new ETR"), null=True, blank=True)

    class Meta(ActorRecord.Meta):
        verbose_name = _("ETR change")
        verbose_name_plural = _("ETR changes")

    def __str__(self) -> str:
        return f"{self.outage_id}: {self.old_etr} → {self.new_etr}"


class Interruption(models.Model):
    """One service point's loss of supply in one outage.

    ``started_at`` is null while a planned outage has not started ("to be interrupted");
    ``ended_at`` is set when the customer's supply comes back. An interruption is *active*
    when started and not ended.

    Overlaps: inside one nesting tree (``root``) a service point has at most one active
    interruption (a partial unique constraint). Independent outages may overlap; each keeps
    its own row so that its own restoration stays exact, but a row whose customer was already
    out in another outage when it started points at that outage in ``already_out_in`` and is
    left out of ``customers_affected``/``customers_restored`` (customers are not counted
    twice). Reliability roll-ups should merge overlapping intervals per service point.
    """

    # Few indexes on purpose: a feeder outage inserts ~10,000 rows at once and every index
    # costs on each. The unique (outage, service_point) serves lookups by outage; the partial
    # unique (service_point, root) serves "is this customer out now"; (service_point,
    # started_at) serves histories (frequent outages). The FKs need no index of their own.
    outage = models.ForeignKey(
        Outage, on_delete=models.CASCADE, related_name="interruptions", db_index=False
    )
    # Denormalised top of the nesting tree, for the one-active-per-tree constraint. This and
    # ``already_out_in`` are pointers the services derive from ``outage``: no database FK,
    # whose per-row check would cost as much as the rest of a 10,000-row insert.
    root = models.ForeignKey(
        Outage, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # No database FK either: its check takes a KEY SHARE row lock on each of the 10,000
    # service points of a feeder outage, which costs more than the insert itself (measured
    # in bench/outage_bulk.py). Rows come from service point queries in the same transaction,
    # and service points are never deleted (PROTECT in the ORM).
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        on_delete=models.PROTECT,
        related_name="interruptions",
        db_index=False,
        db_constraint=False,
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    already_out_in = models.ForeignKey(
        Outage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("interruption")
        verbose_name_plural = _("interruptions")
        indexes = [
            models.Index(fields=["service_point", "started_at"], name="outages_intr_sp_start_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "service_point"], name="outages_interruption_unique_per_outage"
            ),
            models.UniqueConstraint(
                fields=["service_point", "root"],
                condition=Q(started_at__isnull=False, ended_at__isnull=True),
                name="outages_interruption_one_active_per_tree",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True)
                | Q(started_at__isnull=False, ended_at__gte=F("started_at")),
                name="outages_interruption_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outage_id}/{self.service_point_id}"

    @property
    def is_active(self) -> bool:
        return self.started_at is not None and self.ended_at is None
