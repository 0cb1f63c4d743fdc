"""The work order itself: kinds, statuses, SLA clocks, the crew and its version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimeStampedModel
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
        return self.urgent_for(self.kind, self.priority)

    @classmethod
    def urgent_for(cls, kind: str, priority: int) -> bool:
        """``is_urgent`` from plain values (reads that load ``values()``, not instances)."""
        return kind == cls.Kind.DANGER or priority == Priority.URGENT

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
