"""Admin of the outage information pool.

The taxonomy (categories, types, causes) is reference data edited here. Outages, their
timeline, interruptions and trouble reports are shown read-only: they change only through the
services (status compare-and-set, counts and version kept in sync), never by hand.
"""

from django.contrib import admin

from dispatch_center.core.admin import ReadOnlyAdminMixin

from .models import (
    EtrChange,
    Interruption,
    Outage,
    OutageCategory,
    OutageCause,
    OutageEvent,
    OutageType,
    TroubleReport,
)


class OutageTypeInline(admin.TabularInline):
    model = OutageType
    extra = 0
    fields = (
        "code",
        "name",
        "name_en",
        "counts_in_reliability",
        "notice_rule",
        "notice_period",
        "default_priority",
        "is_active",
        "sort_order",
    )


@admin.register(OutageCategory)
class OutageCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order")
    search_fields = ("code", "name", "name_en")
    inlines = [OutageTypeInline]


@admin.register(OutageType)
class OutageTypeAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "name_en",
        "category",
        "counts_in_reliability",
        "notice_rule",
        "notice_period",
        "default_priority",
        "is_active",
    )
    list_filter = ("category", "counts_in_reliability", "notice_rule", "is_active")
    search_fields = ("code", "name", "name_en")
    list_select_related = ("category",)


@admin.register(OutageCause)
class OutageCauseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "is_active", "sort_order")
    list_filter = ("is_active",)
    list_editable = ("is_active", "sort_order")
    search_fields = ("code", "name", "name_en")


class OutageEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OutageEvent
    extra = 0
    fields = ("at", "kind", "from_status", "to_status", "actor_label", "reason", "data")
    readonly_fields = fields
    ordering = ("at", "pk")


class EtrChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EtrChange
    extra = 0
    fields = ("at", "old_etr", "new_etr", "actor_label", "reason")
    readonly_fields = fields


@admin.register(Outage)
class OutageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "type",
        "status",
        "source",
        "device",
        "customers_affected",
        "customers_restored",
        "started_at",
        "etr",
        "restored_at",
        "district",
        "version",
    )
    list_filter = ("status", "type__category", "type", "source", "district")
    search_fields = ("=id", "device__code", "device__name", "description")
    list_select_related = ("type", "device", "district")
    date_hierarchy = "created_at"
    raw_id_fields = ("device", "extra_devices", "service_point", "parent", "root")
    inlines = [OutageEventInline, EtrChangeInline]


@admin.register(OutageEvent)
class OutageEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("outage", "at", "kind", "from_status", "to_status", "actor_label")
    list_filter = ("kind", "to_status")
    search_fields = ("=outage__id", "actor_label", "reason")
    list_select_related = ("outage",)
    date_hierarchy = "at"


@admin.register(EtrChange)
class EtrChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("outage", "at", "old_etr", "new_etr", "actor_label")
    search_fields = ("=outage__id", "actor_label", "reason")
    list_select_related = ("outage",)


@admin.register(Interruption)
class InterruptionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("outage", "service_point", "started_at", "ended_at", "already_out_in")
    list_filter = (("ended_at", admin.EmptyFieldListFilter),)
    search_fields = ("=outage__id", "service_point__account_no", "service_point__address")
    list_select_related = ("outage", "service_point")
    raw_id_fields = ("outage", "root", "service_point", "already_out_in")


@admin.register(TroubleReport)
class TroubleReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "received_at",
        "channel",
        "symptom",
        "status",
        "service_point",
        "outage",
        "contact_phone",
    )
    list_filter = ("status", "channel", "symptom")
    search_fields = ("reference", "contact_phone", "raw_address", "service_point__account_no")
    list_select_related = ("service_point", "outage")
    date_hierarchy = "received_at"
    raw_id_fields = ("service_point", "outage", "created_by")
