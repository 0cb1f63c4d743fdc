"""Admin of the crews' app: the parts catalogue and each station's stock are edited here;
part moves and sign-offs are read-only (the app's services write them)."""

from django.contrib import admin

from dispatch_center.core.admin import ReadOnlyAdmin

from .models import CustomerSignoff, PartMove, SparePart, StationStock


class StationStockInline(admin.TabularInline):
    model = StationStock
    extra = 0


@admin.register(SparePart)
class SparePartAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "is_active")
    search_fields = ("code", "name")
    inlines = [StationStockInline]


@admin.register(StationStock)
class StationStockAdmin(admin.ModelAdmin):
    list_display = ("station", "part", "quantity")
    list_filter = ("station",)


@admin.register(PartMove)
class PartMoveAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "part", "quantity", "order", "crew", "station")
    list_filter = ("kind",)


@admin.register(CustomerSignoff)
class CustomerSignoffAdmin(ReadOnlyAdmin):
    list_display = ("order", "kind", "signer_name", "at", "crew")
