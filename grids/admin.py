"""Admin for the network and the organisation, with the searches a dispatcher uses."""

from django.contrib import admin

from .models import (
    Crew,
    CrewMember,
    Device,
    District,
    Feeder,
    Grid,
    Node,
    RepairStation,
    ServicePoint,
    Skill,
    SubDistrict,
    Substation,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "center_lat", "center_lng")
    search_fields = ("code", "name", "name_en")


@admin.register(SubDistrict)
class SubDistrictAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district")
    list_filter = ("district",)
    search_fields = ("code", "name")
    list_select_related = ("district",)


class RepairStationInline(admin.StackedInline):
    model = RepairStation
    extra = 0


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district", "sub_district", "area_class")
    list_filter = ("area_class", "district")
    search_fields = ("code", "name", "sub_district__name")
    list_select_related = ("district", "sub_district")
    autocomplete_fields = ("sub_district",)
    inlines = [RepairStationInline]


@admin.register(RepairStation)
class RepairStationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "grid", "phone", "address")
    list_filter = ("grid__district", "grid__area_class")
    search_fields = ("code", "name", "address", "phone")
    list_select_related = ("grid",)
    autocomplete_fields = ("grid",)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class CrewMemberInline(admin.TabularInline):
    model = CrewMember
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "station", "on_duty", "status", "capacity", "last_located_at")
    list_filter = ("on_duty", "status", "skills", "station__grid__district")
    search_fields = ("code", "name", "vehicle_plate", "station__name", "members__name")
    list_select_related = ("station",)
    autocomplete_fields = ("station",)
    filter_horizontal = ("skills",)
    inlines = [CrewMemberInline]


@admin.register(CrewMember)
class CrewMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "crew", "phone", "is_leader", "user")
    list_filter = ("is_leader", "crew__station")
    search_fields = ("name", "phone", "crew__name", "user__username")
    list_select_related = ("crew", "user")
    autocomplete_fields = ("crew", "user")


@admin.register(Substation)
class SubstationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "district", "voltage_kv")
    list_filter = ("district",)
    search_fields = ("code", "name")
    list_select_related = ("district",)


@admin.register(Feeder)
class FeederAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "substation", "voltage_kv")
    list_filter = ("substation",)
    search_fields = ("code", "name", "substation__name")
    list_select_related = ("substation",)
    autocomplete_fields = ("substation",)


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("code", "is_source", "lat", "lng")
    list_filter = ("is_source",)
    search_fields = ("code",)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "kind",
        "feeder",
        "normally_open",
        "is_open",
        "energized",
        "fed_from",
    )
    list_filter = ("kind", "is_open", "normally_open", "energized")
    search_fields = ("code", "name", "feeder__code", "feeder__name")
    list_select_related = ("feeder", "fed_from")
    raw_id_fields = ("node_a", "node_b")
    autocomplete_fields = ("feeder",)
    # The supply tree is maintained by grids.services.topology_rebuild only.
    readonly_fields = ("energized", "fed_from", "source", "tree_pre", "tree_post", "on_closed_loop")
    show_full_result_count = False


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = (
        "account_no",
        "customer_name",
        "phone",
        "address",
        "district",
        "grid",
        "area_class",
        "is_important",
    )
    list_filter = ("area_class", "is_important", "district")
    search_fields = ("=account_no", "=phone", "address_norm", "customer_name")
    list_select_related = ("district", "grid")
    raw_id_fields = ("transformer",)
    autocomplete_fields = ("grid", "sub_district")
    show_full_result_count = False
