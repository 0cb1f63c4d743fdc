"""A work order's timeline, its dispatch decisions and the crews that refused it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dispatch_center.core.models import TimelineEvent

from .orders import WorkOrder


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
