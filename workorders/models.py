"""Work orders: the repair jobs, their timeline, SLA clocks, dispatch decisions and the grab pool.

A ``WorkOrder`` is one job for one crew: the repair of an outage (one per outage, never one
per call), a visit to a single premise, a danger response (sparks, a wire down), an inspection
or planned job, or a complaint follow-up. ``WorkOrderEvent`` is its timeline. Only
``workorders.services`` writes these rows, and only its ``work_order_transition`` changes
``WorkOrder.status`` (compare-and-set on status and ``version``, STYLE.md §3).

Dispatch records every decision (``DispatchDecision``: the candidates and their score
components, the crews filtered out and why) so the console can explain "why this crew".
Crews that refused an order or let the offer time out are remembered (``DispatchRefusal``) so
re-dispatch skips them. The grab pool (抢单) is ruled by ``PoolPolicy`` rows; per-crew claim
and skip counts (``CrewPoolStats``) make cherry-picking visible.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimelineEvent, TimeStampedModel
from grids.models import AreaClass
from outages.models import Priority


class WorkOrder(TimeStampedModel):
    """One job for one crew, from creation to closure.

    Invariants (named constraints below): an order that a crew holds (dispatched, claimed,
    accepted, en route, on site, completed, return visit, closed) has a crew; an order waiting
    for one (created, rejected, published) has none; ``merged_into`` is set iff merged and
    never points at the order itself; ``arrived_at`` is set once on site, ``completed_at``
    once completed; coordinates are both set or both empty; at most one live outage-repair
    order per outage; at most one order of each kind per source report. ``version`` grows by
    one on every status change and every edit by a crew or dispatcher (not on the SLA marks
    or dispatch bookkeeping), which the dispatch task uses to ignore stale messages.
    """

    class Kind(models.TextChoices):
        OUTAGE_REPAIR = "outage_repair", _("停电抢修")
        PREMISE_REPAIR = "premise_repair", _("单户抢修")
        DANGER = "danger", _("危险处置")
        INSPECTION = "inspection", _("巡视检查")
        PLANNED_WORK = "planned_work", _("计划工作")
        COMPLAINT_FOLLOW_UP = "complaint_follow_up", _("投诉跟进")

    class Status(models.TextChoices):
        CREATED = "created", _("待派单")
        PUBLISHED = "published", _("抢单中")
        CLAIMED = "claimed", _("已抢单")
        DISPATCHED = "dispatched", _("已派单")
        ACCEPTED = "accepted", _("已接单")
        EN_ROUTE = "en_route", _("在途")
        ON_SITE = "on_site", _("到达现场")
        COMPLETED = "completed", _("已完工")
        RETURN_VISIT = "return_visit", _("已回访")
        CLOSED = "closed", _("已归档")
        REJECTED = "rejected", _("已退回")
        CANCELLED = "cancelled", _("已取消")
        MERGED = "merged", _("已合并")

    class SlaState(models.TextChoices):
        OK = "ok", _("正常")
        WARNING = "warning", _("预警")
        BREACHED = "breached", _("超时")

    S = Status
    # The transition table. "rejected" means "back to dispatch" for any reason: the crew
    # refused, let the offer time out, went off duty, was taken by an urgent order or was
    # withdrawn by a dispatcher; the timeline row says which. A published order that nobody
    # claims goes back to "created". Pre-emption and off-duty may pull a crew that has accepted
    # or is on its way, never one on site (a half-done repair is a hazard).
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        S.CREATED: frozenset({S.DISPATCHED, S.PUBLISHED, S.CANCELLED, S.MERGED}),
        S.REJECTED: frozenset({S.DISPATCHED, S.PUBLISHED, S.CANCELLED, S.MERGED}),
        S.PUBLISHED: frozenset({S.CLAIMED, S.CREATED, S.DISPATCHED, S.CANCELLED, S.MERGED}),
        S.DISPATCHED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED, S.MERGED}),
        S.CLAIMED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED, S.MERGED}),
        S.ACCEPTED: frozenset({S.EN_ROUTE, S.ON_SITE, S.REJECTED, S.CANCELLED, S.MERGED}),
        S.EN_ROUTE: frozenset({S.ON_SITE, S.REJECTED, S.CANCELLED, S.MERGED}),
        S.ON_SITE: frozenset({S.COMPLETED, S.CANCELLED}),
        S.COMPLETED: frozenset({S.RETURN_VISIT, S.CLOSED}),
        S.RETURN_VISIT: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
        S.CANCELLED: frozenset(),
        S.MERGED: frozenset(),
    }
    TERMINAL = frozenset({S.CLOSED, S.CANCELLED, S.MERGED})
    OPEN = frozenset(set(S) - TERMINAL)
    # No crew yet: the dispatcher (or the pool) must find one.
    WAITING_FOR_CREW = frozenset({S.CREATED, S.REJECTED, S.PUBLISHED})
    # Waiting for a dispatch decision (the dispatch task and the sweeper look at these).
    NEEDS_DISPATCH = frozenset({S.CREATED, S.REJECTED})
    # Offered to a crew that has not accepted yet (the accept timeout runs).
    AWAITING_ACCEPT = frozenset({S.DISPATCHED, S.CLAIMED})
    # Held by a crew: counts against its capacity.
    WITH_CREW = frozenset({S.DISPATCHED, S.CLAIMED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
    # Have (or had) a crew: the crew column must be set.
    CREW_REQUIRED = WITH_CREW | frozenset({S.COMPLETED, S.RETURN_VISIT, S.CLOSED})
    BEFORE_ARRIVAL = frozenset(
        {S.CREATED, S.REJECTED, S.PUBLISHED, S.DISPATCHED, S.CLAIMED, S.ACCEPTED, S.EN_ROUTE}
    )
    ARRIVED = frozenset({S.ON_SITE, S.COMPLETED, S.RETURN_VISIT, S.CLOSED})
    DONE = frozenset({S.COMPLETED, S.RETURN_VISIT, S.CLOSED})
    # Kinds that run the service-commitment clocks (arrival, restoration).
    SLA_KINDS = frozenset({Kind.OUTAGE_REPAIR, Kind.PREMISE_REPAIR, Kind.DANGER})
    del S

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    district = models.ForeignKey(
        "grids.District", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    area_class = models.CharField(
        _("area class"), max_length=8, choices=AreaClass.choices, default=AreaClass.URBAN
    )
    skill_needed = models.ForeignKey(
        "grids.Skill", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    outage = models.ForeignKey(
        "outages.Outage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
    )
    service_point = models.ForeignKey(
        "grids.ServicePoint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The report that raised a premise or danger order (its uniqueness makes the event
    # handlers idempotent); ``reports`` holds every report linked to the order.
    source_report = models.ForeignKey(
        "outages.TroubleReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reports = models.ManyToManyField(
        "outages.TroubleReport", blank=True, related_name="work_orders"
    )

    crew = models.ForeignKey(
        "grids.Crew", on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    # When the order last started to need a crew (creation, return to dispatch, pool expiry):
    # the pool's bonus points and the dispatch ordering count from here.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    # When a dispatch task was last enqueued; the sweeper re-queues orders still waiting long
    # after it (a lost message must never strand an order).
    dispatch_requested_at = models.DateTimeField(
        _("dispatch requested at"), null=True, blank=True, db_index=True
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(
        _("offer expires at"), null=True, blank=True, db_index=True
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    pool_expires_at = models.DateTimeField(
        _("pool expires at"), null=True, blank=True, db_index=True
    )
    # Crews within the radius when the order was published (ids), for the skip counts.
    pool_audience = models.JSONField(_("pool audience"), default=list, blank=True)
    # Set while the crew holds the order through a claim (a crew holds at most N of these).
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_bonus_points = models.PositiveSmallIntegerField(_("claim bonus points"), default=0)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Service commitment clocks (see SlaPolicy). The arrival clock runs from ``sla_started_at``;
    # the restoration clock from arrival. ``*_warn_at`` is 80 % of the way (policy).
    sla_policy = models.ForeignKey(
        "SlaPolicy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sla_started_at = models.DateTimeField(_("SLA clock start"), null=True, blank=True)
    arrive_warn_at = models.DateTimeField(_("arrival warning at"), null=True, blank=True)
    arrive_due_at = models.DateTimeField(_("arrival due at"), null=True, blank=True, db_index=True)
    restore_warn_at = models.DateTimeField(_("restoration warning at"), null=True, blank=True)
    restore_due_at = models.DateTimeField(
        _("restoration due at"), null=True, blank=True, db_index=True
    )
    sla_state = models.CharField(
        _("SLA state"), max_length=10, choices=SlaState.choices, default=SlaState.OK
    )
    arrive_warned_at = models.DateTimeField(_("arrival warned at"), null=True, blank=True)
    arrive_breached_at = models.DateTimeField(_("arrival breached at"), null=True, blank=True)
    restore_warned_at = models.DateTimeField(_("restoration warned at"), null=True, blank=True)
    restore_breached_at = models.DateTimeField(_("restoration breached at"), null=True, blank=True)

    cause = models.ForeignKey(
        "outages.OutageCause", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    findings = models.TextField(_("findings"), blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_orders"
    )
    reopened_from = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reopened_as"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["status", "priority", "created_at"], name="wo_status_prio_idx"),
            models.Index(fields=["crew", "status"], name="wo_crew_status_idx"),
            models.Index(fields=["grid", "status"], name="wo_grid_status_idx"),
            models.Index(fields=["sla_state", "status"], name="wo_sla_state_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(
                    status__in=[
                        "dispatched",
                        "claimed",
                        "accepted",
                        "en_route",
                        "on_site",
                        "completed",
                        "return_visit",
                        "closed",
                    ]
                )
                | Q(crew__isnull=False),
                name="workorders_workorder_crew_when_held",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["created", "rejected", "published"])
                | Q(crew__isnull=True),
                name="workorders_workorder_no_crew_when_waiting",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="workorders_workorder_merged_iff_target",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("pk")),
                name="workorders_workorder_not_merged_into_self",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["on_site", "completed", "return_visit", "closed"])
                | Q(arrived_at__isnull=False),
                name="workorders_workorder_arrived_when_on_site",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["completed", "return_visit", "closed"])
                | Q(completed_at__isnull=False),
                name="workorders_workorder_completed_when_done",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="workorders_workorder_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=4),
                name="workorders_workorder_priority_range",
            ),
            models.UniqueConstraint(
                fields=["outage"],
                condition=Q(kind="outage_repair")
                & ~Q(status__in=["closed", "cancelled", "merged"]),
                name="workorders_workorder_one_live_repair_per_outage",
            ),
            models.UniqueConstraint(
                fields=["source_report", "kind"],
                condition=Q(source_report__isnull=False) & ~Q(status__in=["cancelled", "merged"]),
                name="workorders_workorder_one_per_report_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.get_status_display()}"

    @property
    def is_urgent(self) -> bool:
        """Urgent orders are dispatched at once, never pooled, and may pre-empt a crew."""
        return self.kind == self.Kind.DANGER or self.priority == Priority.URGENT

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class WorkOrderEvent(TimelineEvent):
    """One line of a work order's timeline: a status change, a dispatch decision, an SLA
    warning, findings, a photo, a note... Written in the same transaction as the change."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        STATUS_CHANGED = "status_changed", _("状态变更")
        DISPATCH_DECISION = "dispatch_decision", _("派单决策")
        PREEMPTED = "preempted", _("班组被抽调")
        SLA_WARNING = "sla_warning", _("时限预警")
        SLA_BREACHED = "sla_breached", _("超出时限")
        FINDINGS = "findings", _("现场勘查")
        RESTORED = "restored", _("恢复送电")
        PHOTO = "photo", _("现场照片")
        RETURN_VISIT = "return_visit", _("回访")
        MERGED_IN = "merged_in", _("合并工单")
        OUTAGE_NOTE = "outage_note", _("停电事件变化")
        NOTE = "note", _("备注")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=16, choices=WorkOrder.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=16, choices=WorkOrder.Status.choices, blank=True
    )
    crew = models.ForeignKey(
        "grids.Crew", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("work order event")
        verbose_name_plural = _("work order events")
        indexes = [models.Index(fields=["order", "at"], name="wo_event_order_at_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class DispatchDecision(models.Model):
    """Why an order went to a crew (or to nobody): the ranked candidates with their score
    components and the crews filtered out with their reasons, as ``dispatching`` returned them.
    """

    class Mode(models.TextChoices):
        DIRECT = "direct", _("自动派单")
        BATCH = "batch", _("批量派单")
        POOL = "pool", _("抢单")
        MANUAL = "manual", _("人工派单")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="decisions")
    crew = models.ForeignKey(
        "grids.Crew", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    # [{"crew_id", "cost", "distance_km", "travel_min", "components": {...}}], best first.
    candidates = models.JSONField(_("candidates"), default=list, blank=True)
    # [{"crew_id", "reasons": [...]}] or, for a batch, {"reason": count}.
    filtered_out = models.JSONField(_("filtered out"), default=list, blank=True)
    # Why nobody was chosen (a reason code of ``dispatching``), or "" when a crew was.
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("dispatch decision")
        verbose_name_plural = _("dispatch decisions")
        indexes = [models.Index(fields=["order", "at"], name="wo_decision_order_at_idx")]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.crew_id} ({self.mode})"


class DispatchRefusal(models.Model):
    """A crew that must not be offered this order again: it refused, let the offer time out,
    went off duty or was pulled away by an urgent order."""

    class Reason(models.TextChoices):
        REJECTED = "rejected", _("拒单")
        TIMED_OUT = "timed_out", _("接单超时")
        OFF_DUTY = "off_duty", _("下班")
        PREEMPTED = "preempted", _("被抽调")
        WITHDRAWN = "withdrawn", _("调度员撤回")

    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="refusals")
    crew = models.ForeignKey("grids.Crew", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("dispatch refusal")
        verbose_name_plural = _("dispatch refusals")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "crew", "reason"], name="workorders_refusal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.crew_id} {self.reason}"


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
