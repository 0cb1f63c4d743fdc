"""``insert_row``: one model row inserted by an INSERT built once per process.

``Model.save(force_insert=True)`` compiles its INSERT on every call (the query, the field
list, the quoting): on a path that runs for every call of a storm (the trouble report
intake) that compilation costs more than the round trip. ``insert_row`` builds the
statement once per model and database, then per row only runs each field's ``pre_save``
(``auto_now`` timestamps) and ``get_db_prep_save``, as Django's insert compiler does, and
reads the new primary key back with ``RETURNING``.

It falls back to ``save(force_insert=True)`` whenever Django's own path could do more: a
``pre_save`` / ``post_save`` receiver for the model, a field with its own placeholder, a
database default or a generated column, a multi-table model, or a database that cannot
return columns from an insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connections, models
from django.db.models import signals


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    fields: tuple[models.Field, ...]  # type: ignore[type-arg]


@cache
def _statement(model: type[models.Model], alias: str) -> _Statement | None:
    connection = connections[alias]
    meta = model._meta
    pk = meta.pk
    if pk is None or meta.parents or not connection.features.can_return_columns_from_insert:
        return None
    fields = tuple(f for f in meta.local_concrete_fields if f is not pk)
    if not getattr(pk, "db_returning", False) or any(
        hasattr(f, "get_placeholder") or f.has_db_default() or f.generated for f in fields
    ):
        return None
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"VALUES ({placeholders}) RETURNING {quote(str(pk.column))}"
    )
    return _Statement(sql=sql, fields=fields)


def insert_row(instance: models.Model, *, using: str = "default") -> None:
    """Insert ``instance`` as a new row (like ``save(force_insert=True)``) and set its pk.

    Raises what the insert raises (``IntegrityError`` for a unique or check constraint); the
    caller owns the transaction, as with ``save``.
    """
    model = type(instance)
    statement = _statement(model, using)
    if (
        statement is None
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
    ):
        instance.save(force_insert=True, using=using)
        return
    connection = connections[using]
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection=connection)
        for field in statement.fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        row = cursor.fetchone()
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = using
