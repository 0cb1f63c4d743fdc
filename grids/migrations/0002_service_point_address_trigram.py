"""pg_trgm and the indexes behind service point address search (PostgreSQL only).

On SQLite (the embedded demo) every operation here is a no-op and search falls back to LIKE.

- ``grids_sp_address_norm_trgm``: GIN (address_norm gin_trgm_ops). Serves
  ``address_norm LIKE '%fragment%'`` for fragments of three or more characters and the
  word-similarity filter ``address_norm %> fragment``.
- ``grids_sp_address_len_account``: btree (length(address_norm), account_no). Search ranks
  matches by address length, then account; walking this index in rank order and stopping after
  ``limit`` matches answers a common fragment (and any one- or two-character fragment, which
  has no trigram) without sorting every match.
- Prefix matches (``LIKE 'fragment%'``) use the varchar_pattern_ops index Django already
  creates for the indexed ``address_norm`` column.

Checked with EXPLAIN ANALYZE on PostgreSQL 15, database locale C.UTF-8 (libc), 1,000,000 demo
service points (``bench/address_search.py --explain``):

- pg_trgm treats CJK characters as word characters in C.UTF-8: ``show_trgm('深南中路1003号')``
  gives one trigram per three consecutive characters (hashed, being multi-byte), so trigrams
  are extracted from Chinese fragments and the GIN index is used:
  ``address_norm ~~ '%翠景路1%'`` -> Bitmap Index Scan on grids_sp_address_norm_trgm
  (3,103 rows in 14 ms, most of it the heap fetch).
- ``address_norm %> '翠景路11号'`` -> Bitmap Index Scan on grids_sp_address_norm_trgm.
- ``address_norm ~~ '%30%' ORDER BY length(address_norm), account_no LIMIT 10`` -> Index
  Scan on grids_sp_address_len_account with a filter, stopping after 2,121 rows (3.5 ms).
- ``address_norm ~~ '龙田街道翠%'`` -> Index Scan on the ``..._like`` index (range condition).
- The planner has no statistics on substrings and picks between the first and third plans
  badly (estimates of 6 rows for 3,000 matches and the reverse; a walk through all 1,000,000
  rows for a fragment found nowhere), and JIT-compiles such queries for 10-50 ms.
  ``grids.selectors.search`` therefore probes the index first (at most 1,000 matches), walks
  in rank order only for common fragments, time-boxes the walk and turns JIT off; see
  ``_top`` there. With that, p95 over 3,000 mixed searches was 40 ms (61 ms while other
  test suites loaded both CPUs), see the benchmark.

The indexes are built CONCURRENTLY (a non-atomic migration) so adding them to a populated
table does not block writes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "grids_sp_address_norm_trgm": (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS grids_sp_address_norm_trgm "
        "ON grids_servicepoint USING gin (address_norm gin_trgm_ops)"
    ),
    "grids_sp_address_len_account": (
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS grids_sp_address_len_account "
        "ON grids_servicepoint (length(address_norm), account_no)"
    ),
}


class KeepTrigramExtension(TrigramExtension):
    """Installs pg_trgm; reversing leaves it (other indexes may use it) and skips SQLite."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        return


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("grids", "0001_network_and_organisation")]

    operations = [
        KeepTrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
