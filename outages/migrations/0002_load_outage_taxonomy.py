"""Load the outage taxonomy: 4 categories, 17 types (notice rules, reliability, priority) and
the cause codes. Data only; the schema is in 0001. Editable afterwards in the admin."""

from datetime import timedelta

from django.db import migrations

CATEGORIES = [
    # code, name, name_en, sort_order, description
    ("planned", "计划停电", "Planned", 1, "提前 7 天通知所有受影响用户。"),
    ("temporary", "临时停电", "Temporary", 2, "提前 24 小时通知受影响的重要用户。"),
    ("fault", "故障停电", "Fault", 3, "无需提前通知。"),
    (
        "other",
        "限电及其他",
        "Curtailment and administrative",
        4,
        "限电、有序用电、欠费及违约停电。",
    ),
]

WEEK = timedelta(days=7)
DAY = timedelta(hours=24)
# category, code, name, name_en, counts_in_reliability, notice_rule, notice_period, priority
# Priorities: 1 urgent, 2 high, 3 normal, 4 low. Customer-requested, non-payment and theft
# disconnections are the customer's own doing and stay out of the reliability indices.
TYPES = [
    ("planned", "planned_maintenance", "计划检修", "Planned maintenance", True, "all", WEEK, 3),
    ("planned", "planned_construction", "计划施工", "Planned construction", True, "all", WEEK, 3),
    (
        "planned",
        "planned_customer_request",
        "用户申请",
        "Customer-requested (planned)",
        False,
        "all",
        WEEK,
        4,
    ),
    ("planned", "planned_load_transfer", "计划调电", "Planned load transfer", True, "all", WEEK, 3),
    (
        "temporary",
        "temporary_maintenance",
        "临时检修",
        "Temporary maintenance",
        True,
        "important",
        DAY,
        2,
    ),
    (
        "temporary",
        "temporary_construction",
        "临时施工",
        "Temporary construction",
        True,
        "important",
        DAY,
        2,
    ),
    (
        "temporary",
        "temporary_customer_request",
        "临时用户申请",
        "Customer-requested (temporary)",
        False,
        "important",
        DAY,
        3,
    ),
    (
        "temporary",
        "temporary_load_transfer",
        "临时调电",
        "Temporary load transfer",
        True,
        "important",
        DAY,
        2,
    ),
    (
        "fault",
        "fault_upstream",
        "上级电网故障",
        "Upstream grid / substation fault",
        True,
        "none",
        None,
        1,
    ),
    ("fault", "fault_mv_feeder", "中压线路故障", "10 kV feeder fault", True, "none", None, 1),
    (
        "fault",
        "fault_transformer",
        "配变故障",
        "Distribution transformer fault",
        True,
        "none",
        None,
        2,
    ),
    ("fault", "fault_lv_line", "低压线路故障", "LV line fault", True, "none", None, 2),
    (
        "fault",
        "fault_single_premise",
        "单户故障",
        "Single premise (meter / service drop)",
        True,
        "none",
        None,
        3,
    ),
    (
        "other",
        "curtailment_shortage",
        "超供电能力限电",
        "Curtailment: supply shortage",
        True,
        "none",
        None,
        2,
    ),
    ("other", "orderly_power_use", "有序用电", "Orderly power use", True, "none", None, 3),
    ("other", "non_payment", "欠费停电", "Non-payment disconnection", False, "none", None, 4),
    (
        "other",
        "violation_theft",
        "违约窃电停电",
        "Violation / theft disconnection",
        False,
        "none",
        None,
        4,
    ),
]

CAUSES = [
    ("equipment_failure", "设备故障", "Equipment failure"),
    ("cable_fault", "电缆故障", "Cable fault"),
    ("overhead_line_fault", "架空线路故障", "Overhead line fault"),
    ("tree_contact", "树障", "Tree contact"),
    ("weather", "恶劣天气", "Severe weather"),
    ("typhoon", "台风", "Typhoon"),
    ("lightning", "雷击", "Lightning"),
    ("flooding", "水浸", "Flooding"),
    ("external_damage", "外力破坏", "External damage"),
    ("construction_damage", "施工破坏", "Damage by construction works"),
    ("animal", "小动物", "Animal"),
    ("overload", "过负荷", "Overload"),
    ("customer_equipment", "用户设备故障", "Customer equipment"),
    ("planned_work", "计划工作", "Planned work"),
    ("unknown", "原因不明", "Unknown"),
    ("other", "其他", "Other"),
]


def load(apps, schema_editor):
    Category = apps.get_model("outages", "OutageCategory")
    Type = apps.get_model("outages", "OutageType")
    Cause = apps.get_model("outages", "OutageCause")
    categories = {}
    for code, name, name_en, order, description in CATEGORIES:
        categories[code], _ = Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "sort_order": order,
                "description": description,
            },
        )
    for order, (cat, code, name, name_en, counts, rule, period, priority) in enumerate(TYPES):
        Type.objects.update_or_create(
            code=code,
            defaults={
                "category": categories[cat],
                "name": name,
                "name_en": name_en,
                "counts_in_reliability": counts,
                "notice_rule": rule,
                "notice_period": period,
                "default_priority": priority,
                "sort_order": order,
            },
        )
    for order, (code, name, name_en) in enumerate(CAUSES):
        Cause.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
        )


def unload(apps, schema_editor):
    apps.get_model("outages", "OutageCause").objects.filter(
        code__in=[c[0] for c in CAUSES]
    ).delete()
    apps.get_model("outages", "OutageType").objects.filter(code__in=[t[1] for t in TYPES]).delete()
    apps.get_model("outages", "OutageCategory").objects.filter(
        code__in=[c[0] for c in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("outages", "0001_outage_pool_schema")]

    operations = [migrations.RunPython(load, unload)]
