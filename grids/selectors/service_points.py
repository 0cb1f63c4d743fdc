"""Per-call look-ups of one service point: by account number, by normalised address, nearest.

These run for every call of a storm (the trouble report intake, subscriptions), so they are
plain SQL on an index and return light instances carrying only the columns asked for (``id``
always): building the same queries through the ORM costs several times the query itself
(``bench/intake_throughput.py``). Column and table names come from the model and are quoted;
values always go as parameters. Searching with ranking is ``grids.selectors.search``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection

from grids.address import normalize_identifier
from grids.models import District, ServicePoint

METERS_PER_DEGREE = 111_320.0
# What the intake needs of a premise: where it hangs in the network.
DEFAULT_FIELDS: tuple[str, ...] = ("transformer_id",)


@dataclass(frozen=True, slots=True)
class PremiseQuery:
    """A look-up of service points as one SELECT, to run here or to compose into a larger
    read of another app (``outages.selectors.intake``: the premise and its interruptions in
    one round trip) without that app naming grids' tables.

    ``sql`` selects ``columns`` columns per row: ``id``, then ``fields`` (attnames), then a
    distance for a nearest look-up (NULL otherwise); ``params`` are its values, in order.
    ``premise(row)`` turns a row (its first ``columns`` values) into a light instance, or
    None when the row is beyond ``max_meters`` (nearest look-ups).
    """

    sql: str
    params: tuple[Any, ...]
    fields: tuple[str, ...]
    max_meters: float | None = None

    @property
    def columns(self) -> int:
        return len(self.fields) + 2

    def premise(self, row: Sequence[object]) -> ServicePoint | None:
        *values, d2 = row[: self.columns]
        if self.max_meters is not None and not (
            isinstance(d2, float | int) and math.sqrt(d2) * METERS_PER_DEGREE <= self.max_meters
        ):
            return None
        return _instance(self.fields, tuple(values))

    def run(self) -> list[ServicePoint]:
        """The service points this look-up finds (one query)."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, list(self.params))
            rows = cursor.fetchall()
        return [sp for sp in map(self.premise, rows) if sp is not None]


def service_point_for_account_query(
    account_no: str, *, fields: Sequence[str] = DEFAULT_FIELDS
) -> PremiseQuery | None:
    """``service_point_for_account`` as a ``PremiseQuery``; None for a blank number."""
    ident = normalize_identifier(account_no) or account_no.strip()
    if not ident:
        return None
    fields = tuple(fields)
    return PremiseQuery(_account_sql(fields), (ident,), fields)


def service_point_for_account(
    account_no: str, *, fields: Sequence[str] = DEFAULT_FIELDS
) -> ServicePoint | None:
    """The service point of exactly this account number (a phone number does not count).

    ``account_no`` is normalised like the search does (``grids.address.normalize_identifier``).
    One query on the unique index; the instance carries ``id`` and ``fields`` (attnames) only.
    """
    query = service_point_for_account_query(account_no, fields=fields)
    found = query.run() if query is not None else []
    return found[0] if found else None


@cache
def _account_sql(fields: tuple[str, ...]) -> str:
    return (
        f"SELECT {_columns(fields)}, NULL AS d2 FROM {_table(ServicePoint)} "  # noqa: S608
        f"WHERE {_col('account_no')} = %s"
    )


def service_point_by_id_query(
    service_point_id: int, *, fields: Sequence[str] = DEFAULT_FIELDS
) -> PremiseQuery:
    """The service point with this primary key, as a ``PremiseQuery``."""
    fields = tuple(fields)
    return PremiseQuery(_by_id_sql(fields), (service_point_id,), fields)


@cache
def _by_id_sql(fields: tuple[str, ...]) -> str:
    return (
        f"SELECT {_columns(fields)}, NULL AS d2 FROM {_table(ServicePoint)} "  # noqa: S608
        f"WHERE {_col('id')} = %s"
    )


def service_points_with_address_query(
    *,
    norm: str,
    district: str | None = None,
    limit: int = 2,
    fields: Sequence[str] = DEFAULT_FIELDS,
) -> PremiseQuery:
    """``service_points_with_address`` as a ``PremiseQuery``."""
    fields = tuple(fields)
    join = ""
    params: tuple[str, ...] = (norm,)
    if district:
        join = (
            f" JOIN {_table(District)} d ON d.{_col('id', District)} = "
            f"s.{_col('district')} AND d.{_col('name', District)} = %s"
        )
        params = (district, norm)
    columns = _columns(fields, alias="s.")
    sql = (
        f"SELECT {columns}, NULL AS d2 FROM {_table(ServicePoint)} s{join} "  # noqa: S608
        f"WHERE s.{_col('address_norm')} = %s ORDER BY s.{_col('account_no')} LIMIT {int(limit)}"
    )
    return PremiseQuery(sql, params, fields)


def service_points_with_address(
    *,
    norm: str,
    district: str | None = None,
    limit: int = 2,
    fields: Sequence[str] = DEFAULT_FIELDS,
) -> list[ServicePoint]:
    """At most ``limit`` service points whose normalised address is exactly ``norm`` (in the
    district named ``district`` when given), by account number like the model's ordering.

    One query on the ``address_norm`` index: the common case of a caller typing the whole
    address costs one cheap query instead of the search's tiers. Instances carry ``id`` and
    ``fields`` (attnames) only.
    """
    return service_points_with_address_query(
        norm=norm, district=district, limit=limit, fields=fields
    ).run()


def service_point_nearest_query(
    *, lat: float, lng: float, max_meters: float, fields: Sequence[str] = DEFAULT_FIELDS
) -> PremiseQuery:
    """``service_point_nearest`` as a ``PremiseQuery`` (at most one row; ``premise`` drops it
    when it lies beyond ``max_meters``)."""
    fields = tuple(fields)
    scale = math.cos(math.radians(lat))
    dlat = max_meters / METERS_PER_DEGREE
    dlng = max_meters / (METERS_PER_DEGREE * max(scale, 0.01))
    params = (lat, lat, lng, scale, lng, scale, lat - dlat, lat + dlat, lng - dlng, lng + dlng)
    return PremiseQuery(_nearest_sql(fields), params, fields, max_meters=max_meters)


def service_point_nearest(
    *, lat: float, lng: float, max_meters: float, fields: Sequence[str] = DEFAULT_FIELDS
) -> ServicePoint | None:
    """The service point nearest to (lat, lng) within ``max_meters``, or None.

    A bounding box first (range conditions that the ``grids_sp_lat_lng_idx`` index on
    (lat, lng) serves), then the nearest inside it by equirectangular distance, exact enough
    at this scale; ties by id. The instance carries ``id`` and ``fields`` (attnames) only.
    """
    found = service_point_nearest_query(
        lat=lat, lng=lng, max_meters=max_meters, fields=fields
    ).run()
    return found[0] if found else None


@cache
def _nearest_sql(fields: tuple[str, ...]) -> str:
    lat, lng, pk = _col("lat"), _col("lng"), _col("id")
    return (
        f"SELECT {_columns(fields)}, "  # noqa: S608
        f"({lat} - %s) * ({lat} - %s) + ({lng} - %s) * %s * ({lng} - %s) * %s AS d2 "
        f"FROM {_table(ServicePoint)} "
        f"WHERE {lat} >= %s AND {lat} <= %s AND {lng} >= %s AND {lng} <= %s "
        f"ORDER BY d2, {pk} LIMIT 1"
    )


def _instance(fields: tuple[str, ...], row: Sequence[object]) -> ServicePoint:
    return ServicePoint.from_db(connection.alias, ["id", *fields], tuple(row))


def _columns(fields: tuple[str, ...], alias: str = "") -> str:
    """``id`` and ``fields`` (attnames, e.g. ``transformer_id``) as quoted columns."""
    names = ["id", *(_field_name(f) for f in fields)]
    return ", ".join(alias + _col(name) for name in names)


def _field_name(attname: str) -> str:
    for field in ServicePoint._meta.concrete_fields:
        if field.attname == attname:
            return str(field.name)
    raise ValueError(f"ServicePoint has no column {attname!r}")


def _col(name: str, model: type[ServicePoint] | type[District] = ServicePoint) -> str:
    """The quoted column of ``model``'s field ``name``."""
    column = model._meta.get_field(name).column  # type: ignore[union-attr]
    return str(connection.ops.quote_name(str(column)))


def _table(model: type[ServicePoint] | type[District]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def service_points_by_customer_name(*, name: str, limit: int = 10) -> list[ServicePoint]:
    """Service points whose customer is called ``name`` exactly, then those whose name starts
    with it (at most ``limit``, by account number within each tier). Read-only, two
    index-backed statements at most (``grids_sp_customer_name_idx``)."""
    name = (name or "").strip()
    if len(name) < 2:
        return []
    qs = ServicePoint.objects.select_related("district", "transformer").order_by("account_no")
    found = list(qs.filter(customer_name=name)[:limit])
    if len(found) < limit:
        seen = [sp.pk for sp in found]
        found += list(
            qs.filter(customer_name__startswith=name).exclude(pk__in=seen)[: limit - len(found)]
        )
    return found
