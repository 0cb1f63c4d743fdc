"""The default frequent-outage policy (Guangdong practice), active."""

from django.db import migrations


def load(apps, schema_editor):
    Policy = apps.get_model("reliability", "FrequentOutagePolicy")
    if not Policy.objects.filter(is_active=True).exists():
        Policy.objects.create(
            name="广东省频繁停电标准",
            is_active=True,
            warning_recent=[[50, 3], [30, 2]],
        )


def unload(apps, schema_editor):
    apps.get_model("reliability", "FrequentOutagePolicy").objects.filter(
        name="广东省频繁停电标准"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("reliability", "0001_frequent_outage_alerts_and_daily_figures")]

    operations = [migrations.RunPython(load, unload)]
