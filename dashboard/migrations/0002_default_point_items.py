"""Default agent points items (admins edit them afterwards)."""

from django.db import migrations

ITEMS = [
    # code, name, class, points, rule, target seconds
    ("first_call_resolution", "一次解决", "quality", 2, "first_call_resolution", None),
    ("quality_review_error", "质检发现差错", "quality", -5, "", None),
    ("handling_under_target", "处理时长达标", "efficiency", 1, "handling_under_target", 180),
    ("complaint_avoided", "化解投诉", "attitude", 5, "", None),
    ("caller_praise", "客户表扬", "attitude", 3, "", None),
]


def load(apps, schema_editor):
    PointItem = apps.get_model("dashboard", "PointItem")
    for n, (code, name, klass, points, rule, target) in enumerate(ITEMS):
        PointItem.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "klass": klass,
                "points": points,
                "rule": rule,
                "target_seconds": target,
                "sort_order": n,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
