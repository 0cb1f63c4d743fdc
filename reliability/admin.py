"""Admin of the reliability app: the frequent-outage policy is edited here; alerts and the
daily figures are shown read-only (they change through the services only)."""

from django.contrib import admin

from dispatch_center.core.admin import ReadOnlyAdminMixin

from .models import (
    DailyReliability,
    FrequentOutageAlert,
    FrequentOutageAlertEvent,
    FrequentOutagePolicy,
)


@admin.register(FrequentOutagePolicy)
class FrequentOutagePolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "momentary_max_minutes",
        "merge_gap_hours",
        "period",
        "frequent_period_over",
        "frequent_window_days",
        "frequent_window_over",
        "frequent_planned_over",
        "warning_period_min",
        "sustained_threshold_minutes",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "is_active", "period")}),
        (
            "频繁停电",
            {
                "fields": (
                    "momentary_max_minutes",
                    "merge_gap_hours",
                    "frequent_period_over",
                    "frequent_window_days",
                    "frequent_window_over",
                    "frequent_planned_over",
                    "warning_period_min",
                    "warning_recent",
                )
            },
        ),
        (
            "剔除",
            {
                "fields": (
                    "exclude_major_event_days",
                    "exclude_customer_side",
                    "exclude_single_premise",
                )
            },
        ),
        (
            "汇总与指标",
            {
                "fields": (
                    "transformer_flag_frequent",
                    "feeder_flag_frequent",
                    "sustained_threshold_minutes",
                )
            },
        ),
    )


class AlertEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FrequentOutageAlertEvent
    extra = 0
    fields = ("at", "kind", "actor", "data")
    readonly_fields = fields


@admin.register(FrequentOutageAlert)
class FrequentOutageAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "service_point",
        "level",
        "status",
        "first_raised_at",
        "last_changed_at",
        "acknowledged_by",
        "work_order_id",
    )
    list_filter = ("status", "level")
    search_fields = ("service_point__account_no", "service_point__address")
    raw_id_fields = ("service_point",)
    inlines = [AlertEventInline]


@admin.register(DailyReliability)
class DailyReliabilityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "day",
        "scope",
        "scope_id",
        "split",
        "customers_served",
        "customer_interruptions",
        "customer_minutes",
        "momentary_interruptions",
        "major_event_day",
    )
    list_filter = ("scope", "split", "major_event_day")
    date_hierarchy = "day"
