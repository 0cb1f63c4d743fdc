"""Admin of the work-orders app.

Reference data (SLA and grab-pool policies) is edited here. Work orders, their timeline and
decisions are read-only: every change goes through the services (the console and the API),
which keep the status machine, the timeline and the linked outage consistent.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dispatch_center.core.admin import ReadOnlyAdmin
from workorders.models import (
    CrewLocation,
    CrewPoolStats,
    DispatchDecision,
    PoolPolicy,
    SatisfactionVisit,
    SlaPolicy,
    WorkOrder,
    WorkOrderEvent,
)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("area_class", "arrive_minutes", "restore_minutes", "warning_ratio")


@admin.register(PoolPolicy)
class PoolPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "grid",
        "kind",
        "enabled",
        "auto_publish",
        "radius_km",
        "ttl_seconds",
        "max_claimed_per_crew",
    )
    list_filter = ("enabled", "auto_publish", "kind")
    list_select_related = ("grid",)
    raw_id_fields = ("grid",)


class WorkOrderEventInline(admin.TabularInline):
    model = WorkOrderEvent
    fields = ("at", "kind", "from_status", "to_status", "crew", "actor_label", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "priority",
        "crew",
        "grid",
        "sla_state",
        "arrive_due_at",
        "created_at",
    )
    list_filter = ("status", "kind", "sla_state", "priority")
    list_select_related = ("crew", "grid")
    search_fields = ("=id", "title", "address")
    raw_id_fields = (
        "grid",
        "district",
        "outage",
        "service_point",
        "source_report",
        "crew",
        "merged_into",
        "reopened_from",
        "created_by",
        "sla_policy",
        "skill_needed",
        "cause",
    )
    readonly_fields = ("reports",)
    inlines = [WorkOrderEventInline]
    date_hierarchy = "created_at"


@admin.register(DispatchDecision)
class DispatchDecisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "crew", "mode", "outcome", "at")
    list_filter = ("mode", "outcome")
    list_select_related = ("order", "crew")
    search_fields = ("=order__id",)
    raw_id_fields = ("order", "crew", "actor")


@admin.register(CrewPoolStats)
class CrewPoolStatsAdmin(ReadOnlyAdmin):
    list_display = ("crew", "claims", "skips", "lost_races", "bonus_points", "last_claim_at")
    list_select_related = ("crew",)
    search_fields = ("crew__code", "crew__name")


@admin.register(CrewLocation)
class CrewLocationAdmin(ReadOnlyAdmin):
    list_display = ("crew", "at", "lat", "lng", "received_at")
    list_select_related = ("crew",)
    search_fields = ("crew__code",)
    raw_id_fields = ("crew",)


@admin.register(SatisfactionVisit)
class SatisfactionVisitAdmin(ReadOnlyAdmin):
    list_display = ("order", "service_point", "satisfied", "agent", "at")
    list_filter = ("satisfied",)
    list_select_related = ("order", "service_point", "agent")
    search_fields = ("order__id", "service_point__account_no")
    raw_id_fields = ("order", "service_point", "agent")
