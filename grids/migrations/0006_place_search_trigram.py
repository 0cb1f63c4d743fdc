"""The trigram index behind place search (PostgreSQL only), as for service points (0002):
GIN (search_norm gin_trgm_ops) serves ``search_norm LIKE '%fragment%'`` for fragments of three
or more characters. The gazetteer is small (thousands of rows), so it is built in place."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS grids_place_search_trgm "
        "ON grids_place USING gin (search_norm gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS grids_place_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("grids", "0005_place_gazetteer")]

    operations = [migrations.RunPython(create_index, drop_index)]
