"""Admin of the complaints reference data (categories, working-day calendar) and a read-mostly
view of complaints and their records. Status changes go through the desk, not the admin."""

from django.contrib import admin

from complaints.models import (
    Accountability,
    CalendarDay,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintFlag,
    ProcessDefect,
    RemedyContact,
    Trace,
)


@admin.register(ComplaintCategory)
class ComplaintCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "contact_hours", "reply_working_days", "is_active")
    list_filter = ("parent", "is_active")
    search_fields = ("code", "name", "name_en")
    list_editable = ("contact_hours", "reply_working_days", "is_active")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


class EventInline(admin.TabularInline):
    model = ComplaintEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "kind", "from_status", "to_status", "actor_label", "reason", "data")
    exclude = ("actor",)


class FlagInline(admin.TabularInline):
    model = ComplaintFlag
    extra = 0
    readonly_fields = ("code", "detail")
    can_delete = False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ("reference", "received_at", "category", "status", "risk", "reply_due_at")
    list_filter = ("status", "risk", "channel", "category__parent")
    search_fields = ("reference", "phone", "service_point__account_no", "area")
    raw_id_fields = ("service_point", "handler", "created_by")
    readonly_fields = (
        "status",
        "version",
        "contacted_at",
        "replied_at",
        "closed_at",
        "contact_warned_at",
        "contact_breached_at",
        "reply_warned_at",
        "reply_breached_at",
        "risk",
        "risk_score",
    )
    inlines = [FlagInline, EventInline]


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin):
    list_display = ("complaint", "suggested_step", "step", "confirmed_at")
    list_filter = ("step",)
    raw_id_fields = ("complaint", "confirmed_by")


@admin.register(Accountability)
class AccountabilityAdmin(admin.ModelAdmin):
    list_display = ("complaint", "nature", "unit", "held_against", "outcome", "points")
    list_filter = ("nature", "outcome")
    raw_id_fields = ("complaint", "assessed_by", "station")


@admin.register(RemedyContact)
class RemedyContactAdmin(admin.ModelAdmin):
    list_display = ("complaint", "service_point", "distance", "outcome", "contacted_at")
    list_filter = ("outcome",)
    raw_id_fields = ("complaint", "service_point", "contacted_by")


@admin.register(ProcessDefect)
class ProcessDefectAdmin(admin.ModelAdmin):
    list_display = ("description", "step", "owner", "status", "due_on", "done_at")
    list_filter = ("status", "step")
    raw_id_fields = ("complaint",)
