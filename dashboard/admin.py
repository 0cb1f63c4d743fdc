"""Admin of the dashboard: the agent points items are edited here; awards are shown
read-only (manual awards are made on the dashboard, with a reason, through the service)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import PointAward, PointItem


@admin.register(PointItem)
class PointItemAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "name_en",
        "code",
        "klass",
        "points",
        "rule",
        "target_seconds",
        "is_active",
    )
    list_filter = ("klass", "is_active")
    list_editable = ("points", "is_active")
    search_fields = ("name", "name_en", "code")


@admin.register(PointAward)
class PointAwardAdmin(admin.ModelAdmin):
    list_display = ("awarded_at", "agent", "item", "points", "reason", "awarded_by")
    list_filter = ("item__klass", "item")
    search_fields = ("agent__username", "reason")
    date_hierarchy = "awarded_at"
    list_select_related = ("agent", "item", "awarded_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
