"""The work order as the console's lists and detail show it, and the shared answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from dispatch_center.core.serializers import ErrorSerializer, RefSerializer
from workorders import selectors
from workorders.models import WorkOrder


class _CrewRefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderCrewRef"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class _OutageRefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderOutageRef"

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    type = serializers.CharField(source="type.name")
    customers_affected = serializers.IntegerField()
    customers_restored = serializers.IntegerField()
    etr = serializers.DateTimeField(allow_null=True)


class WorkOrderListItemSerializer(serializers.Serializer):
    """A work order in a list, with its SLA clocks."""

    class Meta:
        ref_name = "WorkOrderListItem"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    priority = serializers.IntegerField()
    urgent = serializers.BooleanField(source="is_urgent")
    title = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    area_class = serializers.CharField()
    grid = RefSerializer(allow_null=True)
    district = RefSerializer(allow_null=True)
    crew = _CrewRefSerializer(allow_null=True)
    outage = _OutageRefSerializer(allow_null=True)
    skill_needed = serializers.CharField(source="skill_needed.code", allow_null=True, default=None)
    sla_state = serializers.CharField()
    sla_started_at = serializers.DateTimeField(allow_null=True)
    arrive_warn_at = serializers.DateTimeField(allow_null=True)
    arrive_due_at = serializers.DateTimeField(allow_null=True)
    restore_warn_at = serializers.DateTimeField(allow_null=True)
    restore_due_at = serializers.DateTimeField(allow_null=True)
    waiting_since = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    pool_expires_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    restored_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class _TimelineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderTimelineEntry"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    crew = serializers.CharField(source="crew.name", allow_null=True, default=None)
    actor = serializers.CharField(source="actor_label")
    actor_display = serializers.SerializerMethodField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.JSONField()  # type: ignore[assignment]

    def get_actor_display(self, event: Any) -> str:
        return selectors.actor_label(str(event.actor_label))


class _RefusalSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderRefusal"

    crew = _CrewRefSerializer()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class _PhotoSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderPhoto"

    id = serializers.IntegerField()
    url = serializers.CharField(source="image.url")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class _ReturnVisitSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderReturnVisit"

    id = serializers.IntegerField()
    restored_confirmed = serializers.BooleanField()
    satisfaction = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    follow_up_id = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class _ReportSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderReport"

    id = serializers.IntegerField()
    reference = serializers.CharField()
    channel = serializers.CharField()
    symptom = serializers.CharField()
    received_at = serializers.DateTimeField()


class WorkOrderDetailSerializer(WorkOrderListItemSerializer):
    """A work order with its timeline, dispatch decisions (explained), refusals, photos,
    return visits, reports and the transitions allowed from here."""

    class Meta:
        ref_name = "WorkOrderDetail"

    description = serializers.CharField()
    findings = serializers.CharField()
    cause = serializers.CharField(source="cause.code", allow_null=True, default=None)
    service_point_id = serializers.IntegerField(allow_null=True)
    source_report_id = serializers.IntegerField(allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)
    reopened_from_id = serializers.IntegerField(allow_null=True)
    merged_order_ids = serializers.SerializerMethodField()
    claim_bonus_points = serializers.IntegerField()
    pool_audience_size = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    timeline = _TimelineSerializer(source="events", many=True)
    decisions = serializers.SerializerMethodField()
    refusals = _RefusalSerializer(many=True)
    photos = _PhotoSerializer(many=True)
    return_visits = _ReturnVisitSerializer(many=True)
    reports = _ReportSerializer(many=True)

    def get_merged_order_ids(self, order: WorkOrder) -> list[int]:
        return [o.pk for o in order.merged_orders.all()]

    def get_pool_audience_size(self, order: WorkOrder) -> int:
        return len(order.pool_audience or [])

    def get_allowed_transitions(self, order: WorkOrder) -> list[str]:
        return sorted(WorkOrder.ALLOWED_TRANSITIONS.get(order.status, ()))

    def get_decisions(self, order: WorkOrder) -> list[dict[str, Any]]:
        """Newest first; each with its candidates' score components labelled."""
        return [selectors.decision_explain(d) for d in order.decisions.all()]


def order_detail(order_id: int) -> dict[str, Any]:
    """The detail answer of order ``order_id`` (after a write, or for a read)."""
    return WorkOrderDetailSerializer(selectors.work_order_get_detail(order_id=order_id)).data


WRITE_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (per-field messages)."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorSerializer, description="No such work order."),
    409: OpenApiResponse(ErrorSerializer, description="Refused or concurrent change."),
}
