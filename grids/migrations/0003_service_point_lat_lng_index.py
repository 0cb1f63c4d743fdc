"""Index service points on (lat, lng) for the intake's nearest-premise look-up.

``grids.selectors.service_point_nearest`` narrows by a bounding box (range conditions on lat
and lng) before ranking by distance; without this index every call with coordinates scans
the whole table. Built CONCURRENTLY on PostgreSQL (a non-atomic migration) so adding it to a
populated table does not block writes; a plain index elsewhere (the embedded SQLite demo).
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, an ordinary ``CREATE INDEX`` elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("grids", "0002_service_point_address_trigram")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="servicepoint",
            index=models.Index(fields=["lat", "lng"], name="grids_sp_lat_lng_idx"),
        ),
    ]
