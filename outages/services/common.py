"""Helpers shared by the outage services: locks, the timeline, versions, counts, area, scope.

Nothing here opens its own transaction: callers are ``@transaction.atomic`` services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core import timeline
from dispatch_center.core.dates import iso
from dispatch_center.core.exceptions import DomainError
from grids.models import Device, ServicePoint
from grids.selectors import device_downstream_service_points
from outages import events
from outages.models import EtrChange, Interruption, Outage, OutageEvent
from outages.publicmap import geometry

# Clocks of field devices and phones drift; a timestamp this far ahead is still "now".
CLOCK_SKEW = timedelta(minutes=5)


def outage_qs_for_update(pks: Iterable[int]) -> QuerySet[Outage]:
    """Lock outages, always in primary-key order (STYLE.md, Locks: grids → outages → ...)."""
    return Outage.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk")


def outage_lock(outage: Outage) -> Outage:
    """Lock ``outage``'s row and return a fresh copy of it."""
    return outage_qs_for_update([outage.pk]).get()


label_for = timeline.label_for


def record_event(*, outage: Outage, **fields: Any) -> OutageEvent:
    """Append one line to ``outage``'s timeline (``kind``, ``at`` and the other fields of
    ``dispatch_center.core.timeline.make_event``)."""
    return timeline.record_event(OutageEvent, outage=outage, **fields)


def bump(outage_id: int, **fields: Any) -> None:
    """Update ``fields`` of the outage and bump its version (every change must)."""
    Outage.objects.filter(pk=outage_id).update(
        version=F("version") + 1, updated_at=timezone.now(), **fields
    )


def publish_changed(outage: Outage) -> None:
    """Tell the map (and anyone listening) that ``outage`` changed; ``outage`` is fresh."""
    events.publish(events.OUTAGE_CHANGED, outage_id=outage.pk, version=outage.version)


def check_not_future(at: datetime, *, field: str = "at") -> None:
    """Refuse a timestamp in the future (beyond clock skew)."""
    if at > timezone.now() + CLOCK_SKEW:
        raise DomainError(
            _("时间不能晚于当前时间。"),
            code="invalid",
            fields={field: [_("时间不能晚于当前时间。")]},
        )


def write_etr(
    *,
    outage: Outage,
    etr: datetime | None,
    actor: User | None,
    actor_label: str = "",
    reason: str = "",
) -> EtrChange | None:
    """Set the ETR of ``outage`` (caller holds its lock), with history and timeline.

    Refuses an ETR in the past. Returns ``None`` when the ETR does not change.
    """
    now = timezone.now()
    if etr is not None and etr <= now:
        message = _("预计恢复时间必须晚于当前时间。")
        raise DomainError(message, code="etr_in_past", fields={"etr": [message]})
    if etr == outage.etr:
        return None
    old = outage.etr
    bump(outage.pk, etr=etr)
    change = EtrChange.objects.create(
        outage=outage,
        old_etr=old,
        new_etr=etr,
        actor=actor,
        actor_label=label_for(actor, actor_label),
        reason=reason,
        at=now,
    )
    record_event(
        outage=outage,
        kind=OutageEvent.Kind.ETR_CHANGED,
        at=now,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={"old": _iso(old), "new": _iso(etr)},
    )
    events.publish(
        events.OUTAGE_ETR_CHANGED, outage_id=outage.pk, etr=_iso(etr), previous=_iso(old)
    )
    return change


def _iso(value: datetime | None) -> str | None:
    return iso(value, local=False)


# --- scope and interruptions -------------------------------------------------------------


def scope_service_points(
    *, device: Device, service_point: ServicePoint | None = None
) -> QuerySet[ServicePoint]:
    """The service points an outage at ``device`` (or at one premise) cuts off, unordered.

    For an open device (a tripped breaker) this is what it supplies when closed.
    """
    if service_point is not None:
        return ServicePoint.objects.filter(pk=service_point.pk)
    # The caller's copy may predate the last switching: the supply tree is read afresh.
    fresh = Device.objects.get(pk=device.pk)
    return device_downstream_service_points(device=fresh).order_by()


def outage_scope_ids(outage: Outage) -> set[int]:
    """Ids of every service point inside ``outage``'s scope (all its devices)."""
    if outage.service_point_id is not None:
        return {outage.service_point_id}
    devices = [outage.device, *outage.extra_devices.all()]
    ids: set[int] = set()
    for device in devices:
        ids.update(scope_service_points(device=device).values_list("pk", flat=True))
    return ids


def active_elsewhere(root_id: int, service_point_ids: Any) -> dict[int, int]:
    """For the given service points (ids or an id subquery) already out in an outage outside
    the tree ``root_id``: ``{service point id: the outage that cut it off first}``.

    One query on the partial index of active interruptions; overlaps are rare, so the answer
    is small.
    """
    rows = (
        Interruption.objects.filter(
            service_point_id__in=service_point_ids,
            started_at__isnull=False,
            ended_at__isnull=True,
            already_out_in__isnull=True,
        )
        .exclude(root_id=root_id)
        .order_by("-started_at", "-pk")
        .values_list("service_point_id", "outage_id")
    )
    return dict(rows)  # the earliest comes last and wins


def insert_interruptions(
    *,
    outage: Outage,
    service_points: QuerySet[ServicePoint],
    started_at: datetime | None,
    method: str = "auto",
) -> None:
    """Create ``outage``'s interruptions for ``service_points`` in one statement.

    Rows that would break a unique rule are skipped: a service point already in this outage,
    or one still out in another outage of the same tree (it stays counted there). A service
    point out in an independent outage gets a row marked ``already_out_in`` (not counted
    twice). ``started_at=None`` makes "to be interrupted" rows of a planned outage.

    ``method``: ``"sql"`` (PostgreSQL ``INSERT ... SELECT``, no rows travel through Python),
    ``"orm"`` (``bulk_create`` from a ``values_list`` of ids; SQLite) or ``"auto"``.
    """
    root_id = outage.root_id_or_self
    use_sql = method == "sql" or (method == "auto" and connection.vendor == "postgresql")
    if use_sql:
        _insert_sql(outage.pk, root_id, service_points, started_at)
    else:
        _insert_orm(outage.pk, root_id, service_points, started_at)


def _insert_sql(
    outage_id: int, root_id: int, service_points: QuerySet[ServicePoint], started_at: Any
) -> None:
    try:
        sub_sql, sub_params = service_points.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        # Known empty without asking (``pk__in=[]``: a device with no transformer below it,
        # such as a de-energised switch): no one to interrupt. Raising here failed the whole
        # roll-up run, and every later one that predicted the same device.
        return
    table = Interruption._meta.db_table
    if started_at is None:
        join, join_params = "", []
    else:
        # Set-based, not a subquery per row: the service points of this scope that are out
        # in another tree, earliest outage first (partial index on active interruptions).
        join = (
            " LEFT JOIN (SELECT DISTINCT ON (i.service_point_id) i.service_point_id, i.outage_id"  # noqa: S608
            f" FROM {table} i WHERE i.started_at IS NOT NULL AND i.ended_at IS NULL"
            " AND i.already_out_in_id IS NULL AND i.root_id <> %s"
            f" AND i.service_point_id IN ({sub_sql})"
            " ORDER BY i.service_point_id, i.started_at, i.id) a ON a.service_point_id = sp.id"
        )
        join_params = [root_id, *sub_params]
    already = "NULL" if started_at is None else "a.outage_id"
    # ON CONFLICT without a target skips rows hitting either unique index: the per-outage one
    # and the partial one-active-per-tree index.
    sql = (
        f"INSERT INTO {table} "  # noqa: S608 - table and subqueries come from the ORM
        "(outage_id, root_id, service_point_id, started_at, ended_at, already_out_in_id) "
        f"SELECT %s, %s, sp.id, %s::timestamptz, NULL, {already} "
        f"FROM ({sub_sql}) AS sp (id){join} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [outage_id, root_id, started_at, *sub_params, *join_params])


def _insert_orm(
    outage_id: int, root_id: int, service_points: QuerySet[ServicePoint], started_at: Any
) -> None:
    ids = list(service_points.order_by().values_list("pk", flat=True))
    already: dict[int, int] = {}
    if started_at is not None:
        already = active_elsewhere(root_id, service_points.order_by().values("pk"))
    Interruption.objects.bulk_create(
        [
            Interruption(
                outage_id=outage_id,
                root_id=root_id,
                service_point_id=sp,
                started_at=started_at,
                already_out_in_id=already.get(sp),
            )
            for sp in ids
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )


def start_interruptions(*, outage: Outage, at: datetime) -> int:
    """Start the "to be interrupted" rows of a planned outage at ``at``; rows of customers
    already out in another outage are marked ``already_out_in``."""
    rows = Interruption.objects.filter(outage=outage)
    already = active_elsewhere(outage.root_id_or_self, rows.values("service_point_id"))
    started = rows.filter(started_at__isnull=True).update(started_at=at)
    by_outage: dict[int, list[int]] = defaultdict(list)
    for sp, other in already.items():
        by_outage[other].append(sp)
    for other, sps in by_outage.items():
        rows.filter(service_point_id__in=sps).update(already_out_in_id=other)
    return started


def end_interruptions(rows: QuerySet[Interruption], at: datetime) -> int:
    """End the active ``rows`` at ``at`` (never before a row's own start)."""
    return rows.filter(started_at__isnull=False, ended_at__isnull=True).update(
        ended_at=Greatest(Value(at, output_field=DateTimeField()), F("started_at"))
    )


def active_rows(outage: Outage) -> QuerySet[Interruption]:
    """The started, not yet ended interruptions of ``outage``."""
    return Interruption.objects.filter(
        outage=outage, started_at__isnull=False, ended_at__isnull=True
    )


def recount(outage: Outage) -> bool:
    """Bring ``customers_affected``/``customers_restored`` in line with the interruptions.

    Counts only rows not already counted in another outage. Returns whether they changed
    (and then publishes ``outage.customers_changed``).
    """
    counts = Interruption.objects.filter(
        outage_id=outage.pk, already_out_in__isnull=True
    ).aggregate(affected=Count("pk"), restored=Count("pk", filter=Q(ended_at__isnull=False)))
    current = Outage.objects.filter(pk=outage.pk).values_list(
        "customers_affected", "customers_restored"
    )[0]
    if (counts["affected"], counts["restored"]) == tuple(current):
        return False
    bump(outage.pk, customers_affected=counts["affected"], customers_restored=counts["restored"])
    events.publish(
        events.OUTAGE_CUSTOMERS_CHANGED,
        outage_id=outage.pk,
        customers_affected=counts["affected"],
        customers_restored=counts["restored"],
    )
    return True


def refresh_area(outage: Outage) -> None:
    """Recompute the map area: around the customers still out, or all of them if none are."""
    rows = Interruption.objects.filter(outage_id=outage.pk)
    out = rows.filter(ended_at__isnull=True)
    source = out if out.exists() else rows
    points = source.values_list("service_point__lat", "service_point__lng")
    area = geometry.outage_area(points)
    if area != outage.area:
        bump(outage.pk, area=area)
        outage.area = area


def refresh_location(outage: Outage) -> None:
    """Set the outage's district and grid to those of most of its customers."""
    row = (
        ServicePoint.objects.filter(interruptions__outage_id=outage.pk)
        .values("district_id", "grid_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    district_id: int | None
    grid_id: int | None
    if row is not None:
        district_id, grid_id = row["district_id"], row["grid_id"]
    else:
        district_id = (
            Device.objects.filter(pk=outage.device_id)
            .values_list("feeder__substation__district_id", flat=True)
            .first()
        )
        grid_id = None
    if (district_id, grid_id) != (outage.district_id, outage.grid_id):
        bump(outage.pk, district_id=district_id, grid_id=grid_id)
        outage.district_id, outage.grid_id = district_id, grid_id


def after_scope_change(outage: Outage) -> None:
    """Counts, area and location after interruptions were added or ended."""
    recount(outage)
    refresh_area(outage)
    refresh_location(outage)
