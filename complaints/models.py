"""Complaint control: categories with deadlines, the working-day calendar, complaints and their
timeline, automatic links and risk flags, and the trace → accountability → remedy → improve
records attached to each complaint.

Only ``complaints.services.transition.complaint_transition`` changes ``Complaint.status``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimelineEvent, TimeStampedModel


class ComplaintCategory(models.Model):
    """A complaint category (``parent`` empty) or sub-category, with its deadlines.

    Deadlines: first contact within ``contact_hours`` clock hours of receipt, a reply within
    ``reply_working_days`` working days (``complaints.calendar``). A sub-category with no
    deadlines of its own (null) takes its parent's.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    contact_hours = models.PositiveSmallIntegerField(
        _("contact within (hours)"), null=True, blank=True
    )
    reply_working_days = models.PositiveSmallIntegerField(
        _("reply within (working days)"), null=True, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    DEFAULT_CONTACT_HOURS = 24
    DEFAULT_REPLY_WORKING_DAYS = 5

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_hours__isnull=True) | Q(contact_hours__gte=1),
                name="complaints_category_contact_hours_positive",
            ),
            models.CheckConstraint(
                condition=Q(reply_working_days__isnull=True) | Q(reply_working_days__gte=1),
                name="complaints_category_reply_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name

    @property
    def top(self) -> ComplaintCategory:
        """The top-level category (itself when it has no parent)."""
        return self.parent if self.parent_id and self.parent else self

    @property
    def effective_contact_hours(self) -> int:
        if self.contact_hours:
            return self.contact_hours
        if self.parent_id and self.parent and self.parent.contact_hours:
            return self.parent.contact_hours
        return self.DEFAULT_CONTACT_HOURS

    @property
    def effective_reply_working_days(self) -> int:
        if self.reply_working_days:
            return self.reply_working_days
        if self.parent_id and self.parent and self.parent.reply_working_days:
            return self.parent.reply_working_days
        return self.DEFAULT_REPLY_WORKING_DAYS


class CalendarDay(models.Model):
    """An exception to the Monday–Friday working week: a public holiday (a weekday off) or a
    make-up working day (调休上班, a weekend day worked). The admin keeps these."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=40, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working-day calendar")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class Complaint(TimeStampedModel):
    """One complaint, from registration to closure.

    Invariants (named constraints): ``contacted_at`` is set once past registered;
    ``replied_at`` is set when replied or closed; ``closed_at`` iff closed; a complaint names a
    service point or an area (public opinion may name only an area). ``version`` grows on
    every status change. Closing needs a confirmed trace and an accountability record
    (checked by the transition service).
    """

    class Status(models.TextChoices):
        REGISTERED = "registered", _("已登记")
        CONTACTED = "contacted", _("已联系")
        INVESTIGATING = "investigating", _("调查中")
        REPLIED = "replied", _("已答复")
        CLOSED = "closed", _("已办结")
        REOPENED = "reopened", _("已重启")

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("95598热线")
        WEB = "web", _("网站")
        APP = "app", _("手机应用")
        WECHAT = "wechat", _("微信")
        LETTER = "letter", _("信函来访")
        REGULATOR = "regulator", _("监管转办")
        PUBLIC_OPINION = "public_opinion", _("舆情")
        STAFF = "staff", _("其他渠道")

    class Risk(models.TextChoices):
        LOW = "low", _("低")
        MEDIUM = "medium", _("中")
        HIGH = "high", _("高")

    S = Status
    # registered → contacted → investigating → replied → closed. A simple case may be replied
    # to straight after contact. A follow-up (the customer is not satisfied) reopens a replied
    # or closed complaint, which goes back to investigation.
    ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
        S.REGISTERED: frozenset({S.CONTACTED}),
        S.CONTACTED: frozenset({S.INVESTIGATING, S.REPLIED}),
        S.INVESTIGATING: frozenset({S.REPLIED}),
        S.REPLIED: frozenset({S.CLOSED, S.REOPENED}),
        S.CLOSED: frozenset({S.REOPENED}),
        S.REOPENED: frozenset({S.INVESTIGATING, S.REPLIED}),
    }
    TERMINAL = frozenset({S.CLOSED})
    OPEN = frozenset(set(S) - TERMINAL)
    # Still waiting for the reply (the reply clock runs).
    AWAITING_REPLY = frozenset({S.REGISTERED, S.CONTACTED, S.INVESTIGATING, S.REOPENED})
    del S

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    category = models.ForeignKey(
        ComplaintCategory, on_delete=models.PROTECT, related_name="complaints"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REGISTERED
    )
    service_point = models.ForeignKey(
        "grids.ServicePoint",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    # Public opinion may name an area instead of a customer.
    area = models.CharField(_("area"), max_length=200, blank=True)
    district = models.ForeignKey(
        "grids.District", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grid = models.ForeignKey(
        "grids.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("complaint"))
    phone = models.CharField(_("contact phone"), max_length=20, blank=True, db_index=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    contact_due_at = models.DateTimeField(_("contact due at"))
    reply_due_at = models.DateTimeField(_("reply due at"))
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reply = models.TextField(_("reply to the customer"), blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Deadline marks, set once each by the beat sweeper (as the work orders' SLA marks).
    contact_warned_at = models.DateTimeField(_("contact warned at"), null=True, blank=True)
    contact_breached_at = models.DateTimeField(_("contact breached at"), null=True, blank=True)
    reply_warned_at = models.DateTimeField(_("reply warned at"), null=True, blank=True)
    reply_breached_at = models.DateTimeField(_("reply breached at"), null=True, blank=True)
    risk = models.CharField(_("escalation risk"), max_length=8, choices=Risk.choices)
    risk_score = models.PositiveSmallIntegerField(_("risk score"), default=0)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("investigator"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # A client's retry of the same registration (the ``Idempotency-Key`` header) finds this.
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["status", "reply_due_at"], name="complaints_status_due_idx"),
            models.Index(fields=["service_point", "received_at"], name="complaints_sp_recv_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="registered") | Q(contacted_at__isnull=False),
                name="complaints_complaint_contacted_when_past_registered",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["replied", "closed"]) | Q(replied_at__isnull=False),
                name="complaints_complaint_replied_when_replied",
            ),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False)
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="complaints_complaint_closed_iff_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(service_point__isnull=False) | ~Q(area=""),
                name="complaints_complaint_customer_or_area",
            ),
            models.CheckConstraint(
                condition=Q(reply_due_at__gte=models.F("received_at")),
                name="complaints_complaint_due_after_receipt",
            ),
            models.UniqueConstraint(
                fields=["created_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="complaints_complaint_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class ComplaintEvent(TimelineEvent):
    """One line of a complaint's timeline, written in the same transaction as the change."""

    class Kind(models.TextChoices):
        CREATED = "created", _("登记")
        STATUS_CHANGED = "status_changed", _("状态变更")
        LINKED = "linked", _("关联")
        FLAGGED = "flagged", _("风险标记")
        TRACE = "trace", _("溯源")
        ACCOUNTABILITY = "accountability", _("问责")
        REMEDY = "remedy", _("同类客户修复")
        DEFECT = "defect", _("流程缺陷")
        DEADLINE_WARNING = "deadline_warning", _("时限预警")
        DEADLINE_BREACHED = "deadline_breached", _("超出时限")
        NOTE = "note", _("备注")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=16, choices=Complaint.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=16, choices=Complaint.Status.choices, blank=True
    )

    class Meta(TimelineEvent.Meta):
        verbose_name = _("complaint event")
        verbose_name_plural = _("complaint events")
        indexes = [models.Index(fields=["complaint", "at"], name="complaints_event_c_at_idx")]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class ComplaintLink(models.Model):
    """A link from a complaint to an outage, a trouble report or a work order of the
    customer's (``auto``: found on creation from the previous 30 days)."""

    class Kind(models.TextChoices):
        OUTAGE = "outage", _("停电事件")
        REPORT = "report", _("报修")
        WORK_ORDER = "work_order", _("工单")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    outage = models.ForeignKey(
        "outages.Outage", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    report = models.ForeignKey(
        "outages.TroubleReport", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    auto = models.BooleanField(_("found automatically"), default=True)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("complaint link")
        verbose_name_plural = _("complaint links")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="outage", outage__isnull=False, report__isnull=True)
                & Q(work_order__isnull=True)
                | Q(kind="report", report__isnull=False, outage__isnull=True)
                & Q(work_order__isnull=True)
                | Q(kind="work_order", work_order__isnull=False, outage__isnull=True)
                & Q(report__isnull=True),
                name="complaints_link_one_target_of_kind",
            ),
            models.UniqueConstraint(
                fields=["complaint", "outage"],
                condition=Q(outage__isnull=False),
                name="complaints_link_unique_outage",
            ),
            models.UniqueConstraint(
                fields=["complaint", "report"],
                condition=Q(report__isnull=False),
                name="complaints_link_unique_report",
            ),
            models.UniqueConstraint(
                fields=["complaint", "work_order"],
                condition=Q(work_order__isnull=False),
                name="complaints_link_unique_work_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} → {self.kind} {self.target_id}"

    @property
    def target_id(self) -> int | None:
        return self.outage_id or self.report_id or self.work_order_id


class ComplaintFlag(models.Model):
    """A risk flag raised on a complaint, with what raised it (``detail``)."""

    class Code(models.TextChoices):
        REPEAT = "repeat", _("30天内重复投诉")
        OUTAGE_COMPLAINED = "outage_complained", _("该停电已被投诉")
        FREQUENT_OUTAGE = "frequent_outage", _("频繁停电用户")
        SLA_BREACH = "sla_breach", _("经历过超时抢修")
        IMPORTANT = "important", _("重要用户")
        PUBLIC_OPINION = "public_opinion", _("舆情")

    # Weights of the escalation-risk score (sum ≥ 5: high, ≥ 2: medium).
    WEIGHTS: dict[str, int] = {
        Code.REPEAT: 3,
        Code.OUTAGE_COMPLAINED: 1,
        Code.FREQUENT_OUTAGE: 2,
        Code.SLA_BREACH: 2,
        Code.IMPORTANT: 2,
        Code.PUBLIC_OPINION: 3,
    }

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(_("flag"), max_length=20, choices=Code.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("risk flag")
        verbose_name_plural = _("risk flags")
        constraints = [
            models.UniqueConstraint(fields=["complaint", "code"], name="complaints_flag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.code}"


class ServiceStep(models.TextChoices):
    """The service step at fault (溯源环节)."""

    INTAKE = "intake", _("受理")
    DISPATCH = "dispatch", _("派单")
    TRAVEL = "travel", _("到达")
    REPAIR = "repair", _("抢修")
    RESTORATION = "restoration", _("复电")
    INFORMATION = "information", _("信息发布")
    CONDUCT = "conduct", _("服务行为")
    NONE = "none", _("无责")


class Trace(TimeStampedModel):
    """The trace (溯源) of a complaint: the suggested step with its reasons, and the step the
    investigator confirmed (``confirmed_at`` set)."""

    complaint = models.OneToOneField(Complaint, on_delete=models.CASCADE, related_name="trace")
    suggested_step = models.CharField(
        _("suggested step"), max_length=12, choices=ServiceStep.choices, blank=True
    )
    suggestions = models.JSONField(_("suggestions"), default=list, blank=True)
    step = models.CharField(_("step at fault"), max_length=12, choices=ServiceStep.choices)
    finding = models.TextField(_("finding"), blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trace")
        verbose_name_plural = _("traces")
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | ~Q(step=""),
                name="complaints_trace_confirmed_has_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.step}"


class Accountability(TimeStampedModel):
    """Who answers for a complaint (问责): an individual problem is held against the person
    who handled it, a shared (systemic) one against the unit's manager; the assessment and
    its outcome."""

    class Nature(models.TextChoices):
        INDIVIDUAL = "individual", _("个人问题")
        SHARED = "shared", _("共性问题")
        NONE = "none", _("无责")

    class Outcome(models.TextChoices):
        NO_FAULT = "no_fault", _("不予考核")
        REMINDER = "reminder", _("提醒谈话")
        CRITICISM = "criticism", _("通报批评")
        DEDUCTION = "deduction", _("绩效扣分")
        WARNING = "warning", _("警告处分")

    complaint = models.OneToOneField(
        Complaint, on_delete=models.CASCADE, related_name="accountability"
    )
    nature = models.CharField(_("nature"), max_length=12, choices=Nature.choices)
    unit = models.CharField(_("responsible unit"), max_length=80)
    station = models.ForeignKey(
        "grids.RepairStation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person = models.CharField(_("person who handled it"), max_length=64, blank=True)
    manager = models.CharField(_("unit manager"), max_length=64, blank=True)
    # Who the assessment is held against: the person (individual) or the manager (shared).
    held_against = models.CharField(_("held against"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    points = models.PositiveSmallIntegerField(_("points deducted"), default=0)
    note = models.TextField(_("note"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assessed_at = models.DateTimeField(_("assessed at"))

    class Meta:
        verbose_name = _("accountability")
        verbose_name_plural = _("accountability records")
        constraints = [
            models.CheckConstraint(
                condition=Q(nature="none") | ~Q(held_against=""),
                name="complaints_accountability_held_against_someone",
            )
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.unit} {self.outcome}"


class RemedyContact(TimeStampedModel):
    """A customer similar to a complaining one, put on the proactive-contact list (修复), and
    the outcome of the contact."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("待联系")
        SATISFIED = "satisfied", _("已安抚/满意")
        ISSUE_FOUND = "issue_found", _("发现问题已处理")
        UNREACHABLE = "unreachable", _("无法联系")
        DECLINED = "declined", _("拒绝沟通")

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="remedies")
    service_point = models.ForeignKey(
        "grids.ServicePoint", on_delete=models.PROTECT, related_name="+"
    )
    distance = models.FloatField(_("distance"))
    features = models.JSONField(_("features"), default=dict, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    note = models.TextField(_("note"), blank=True)
    contacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)

    class Meta:
        ordering = ["distance", "pk"]
        verbose_name = _("proactive contact")
        verbose_name_plural = _("proactive contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "service_point"], name="complaints_remedy_unique"
            ),
            models.CheckConstraint(
                condition=Q(outcome="pending") | Q(contacted_at__isnull=False),
                name="complaints_remedy_contacted_when_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.service_point_id} {self.outcome}"


class ProcessDefect(TimeStampedModel):
    """A process defect a complaint revealed (优化), its owner, status and the improvement."""

    class Status(models.TextChoices):
        OPEN = "open", _("待整改")
        IN_PROGRESS = "in_progress", _("整改中")
        DONE = "done", _("已完成")

    complaint = models.ForeignKey(
        Complaint, on_delete=models.SET_NULL, null=True, blank=True, related_name="defects"
    )
    step = models.CharField(_("step"), max_length=12, choices=ServiceStep.choices)
    description = models.TextField(_("defect"))
    owner = models.CharField(_("owner"), max_length=64)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    improvement = models.TextField(_("improvement made"), blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("process defect")
        verbose_name_plural = _("process defects")
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", done_at__isnull=False)
                | (~Q(status="done") & Q(done_at__isnull=True)),
                name="complaints_defect_done_iff_done_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | ~Q(improvement=""),
                name="complaints_defect_done_has_improvement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.description[:30]}"
