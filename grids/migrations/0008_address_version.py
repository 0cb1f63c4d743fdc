"""A counter of changes to what the public look-up's in-memory address index holds.

``grids_address_version`` has one row, ``version``, raised by a statement trigger on every
insert, delete and truncate of service points and districts, and on every update of their
columns the index reads (``address_norm``, ``account_no``, ``district_id``; a district's
``name``). It is transactional: a process that reads the counter and the rows in one
statement has an index of exactly that version, and a look-up that reads the counter with
its matches knows whether the index it searched is still current (see
``grids.selectors.address_snapshot``). PostgreSQL only: elsewhere the look-up searches the
database.
"""

from django.db import migrations

FORWARD = """
CREATE TABLE grids_address_version (
    id smallint PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO grids_address_version (id, version) VALUES (1, 1);
CREATE FUNCTION grids_address_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO grids_address_version (id, version) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET version = grids_address_version.version + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER grids_sp_address_version
    AFTER INSERT OR DELETE OR UPDATE OF address_norm, account_no, district_id
    ON grids_servicepoint FOR EACH STATEMENT EXECUTE FUNCTION grids_address_version_bump();
CREATE TRIGGER grids_sp_address_version_truncate
    AFTER TRUNCATE ON grids_servicepoint
    FOR EACH STATEMENT EXECUTE FUNCTION grids_address_version_bump();
CREATE TRIGGER grids_district_address_version
    AFTER INSERT OR DELETE OR UPDATE OF name ON grids_district
    FOR EACH STATEMENT EXECUTE FUNCTION grids_address_version_bump();
CREATE TRIGGER grids_district_address_version_truncate
    AFTER TRUNCATE ON grids_district
    FOR EACH STATEMENT EXECUTE FUNCTION grids_address_version_bump();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS grids_district_address_version_truncate ON grids_district;
DROP TRIGGER IF EXISTS grids_district_address_version ON grids_district;
DROP TRIGGER IF EXISTS grids_sp_address_version_truncate ON grids_servicepoint;
DROP TRIGGER IF EXISTS grids_sp_address_version ON grids_servicepoint;
DROP FUNCTION IF EXISTS grids_address_version_bump();
DROP TABLE IF EXISTS grids_address_version;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("grids", "0007_service_point_customer_name_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
