"""Default service commitments (95598) and the default grab-pool policy. Data only; the
schema is in 0001. Editable afterwards in the admin."""

from django.db import migrations

# area class, crew on site within (minutes), restored within (minutes of arrival)
SLA = [
    ("urban", 45, 180),
    ("rural", 90, 240),
    ("remote", 120, 240),
]


def load(apps, schema_editor):
    SlaPolicy = apps.get_model("workorders", "SlaPolicy")
    PoolPolicy = apps.get_model("workorders", "PoolPolicy")
    for area_class, arrive, restore in SLA:
        SlaPolicy.objects.update_or_create(
            area_class=area_class,
            defaults={"arrive_minutes": arrive, "restore_minutes": restore, "warning_ratio": 0.8},
        )
    # Every grid and kind: the pool is allowed (dispatchers publish by hand), nothing is
    # published automatically, 5 minutes to live, two claimed orders per crew.
    PoolPolicy.objects.get_or_create(
        grid=None,
        kind="",
        defaults={
            "enabled": True,
            "auto_publish": False,
            "ttl_seconds": 300,
            "max_claimed_per_crew": 2,
        },
    )


def unload(apps, schema_editor):
    apps.get_model("workorders", "SlaPolicy").objects.filter(
        area_class__in=[a for a, _, _ in SLA]
    ).delete()
    apps.get_model("workorders", "PoolPolicy").objects.filter(grid=None, kind="").delete()


class Migration(migrations.Migration):
    dependencies = [("workorders", "0001_work_orders_dispatch_pool_schema")]

    operations = [migrations.RunPython(load, unload)]
