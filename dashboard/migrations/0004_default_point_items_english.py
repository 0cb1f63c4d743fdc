"""English names of the default agent points items."""

from django.db import migrations

NAMES_EN = {
    "first_call_resolution": "First-call resolution",
    "quality_review_error": "Error found by quality review",
    "handling_under_target": "Handling time under target",
    "complaint_avoided": "Complaint avoided",
    "caller_praise": "Caller's praise",
}


def load(apps, schema_editor):
    PointItem = apps.get_model("dashboard", "PointItem")
    for code, name_en in NAMES_EN.items():
        PointItem.objects.filter(code=code, name_en="").update(name_en=name_en)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0003_pointitem_name_en")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
