"""Helpers shared by the work-order services: settings, locks, the timeline, the one
compare-and-set status change, crew status, and moving the linked outage along.

Nothing here opens its own transaction: callers are ``@transaction.atomic`` services.

Lock order (STYLE.md): grids (crews) → outages → workorders. A service that will touch a
crew and an outage locks the crews first (``crew_qs_for_update``), then the outage
(``outages.services.outage_qs_for_update``), and only then updates the work order, whose
compare-and-set ``UPDATE`` takes the order's row lock last.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BigIntegerField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core import timeline
from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    DomainError,
    TransitionNotAllowed,
)
from dispatch_center.core.tasks import enqueue_on_commit
from grids import selectors as grid_selectors
from grids import services as grid_services
from grids.models import Crew
from outages import selectors as outage_selectors
from outages import services as outage_services
from outages.models import Outage
from workorders.models import WorkOrder, WorkOrderEvent

logger = logging.getLogger(__name__)

Status = WorkOrder.Status

# Clocks of phones drift; a timestamp this far ahead is still "now".
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Conf:
    """The work-order settings (``WORKORDERS_*`` in settings), with their defaults."""

    accept_timeout: timedelta
    storm_threshold: int
    batch_delay_seconds: float
    dispatch_stale: timedelta
    pool_ttl_seconds: int
    photo_max_bytes: int
    close_on_confirmed_visit: bool


def conf() -> Conf:
    """Read the settings now (tests override them with ``settings`` fixtures)."""
    return Conf(
        accept_timeout=timedelta(
            seconds=getattr(settings, "WORKORDERS_ACCEPT_TIMEOUT_SECONDS", 300)
        ),
        storm_threshold=getattr(settings, "WORKORDERS_STORM_THRESHOLD", 30),
        batch_delay_seconds=getattr(settings, "WORKORDERS_BATCH_DELAY_SECONDS", 0.3),
        dispatch_stale=timedelta(
            seconds=getattr(settings, "WORKORDERS_DISPATCH_STALE_SECONDS", 60)
        ),
        pool_ttl_seconds=getattr(settings, "WORKORDERS_POOL_TTL_SECONDS", 300),
        photo_max_bytes=getattr(settings, "WORKORDERS_PHOTO_MAX_BYTES", 10 * 1024 * 1024),
        close_on_confirmed_visit=getattr(settings, "WORKORDERS_CLOSE_ON_CONFIRMED_VISIT", True),
    )


# --- locks -------------------------------------------------------------------------------


def crew_qs_for_update(pks: Iterable[int | None]) -> QuerySet[Crew]:
    """Lock crews, always in primary-key order (``grids.services.crew_qs_for_update``)."""
    return grid_services.crew_qs_for_update(pks)


def lock_crews(pks: Iterable[int | None]) -> dict[int, Crew]:
    """Lock the crews and return them by id."""
    return {c.pk: c for c in crew_qs_for_update(pks)}


def lock_outages(pks: Iterable[int | None]) -> dict[int, Outage]:
    """Lock the outages (through the outages app's own helper, in its order)."""
    ids = sorted({pk for pk in pks if pk is not None})
    if not ids:
        return {}
    return {o.pk: o for o in outage_services.outage_qs_for_update(ids)}


def lock_for(order: WorkOrder, *, crews: Iterable[int | None] = ()) -> None:
    """Take the locks a change of ``order`` needs, in order: its crew and ``crews``, then its
    outage. The order's own row is locked by the compare-and-set update that follows."""
    lock_crews([order.crew_id, *crews])
    lock_outages([order.outage_id])


# --- the timeline and the compare-and-set ------------------------------------------------


label_for = timeline.label_for


def make_event(
    *,
    order: WorkOrder,
    kind: str,
    at: datetime,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
    crew_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> WorkOrderEvent:
    """An unsaved timeline row (bulk paths save many at once)."""
    return timeline.make_event(
        WorkOrderEvent,
        order_id=order.pk,
        kind=kind,
        at=at,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        from_status=from_status,
        to_status=to_status,
        crew_id=crew_id,
        data=data,
    )


def record_event(**kwargs: Any) -> WorkOrderEvent:
    """Append one line to an order's timeline (arguments of ``make_event``)."""
    event = make_event(**kwargs)
    event.save()
    return event


def check_time(
    at: datetime | None, *, field: str = "at", not_before: datetime | None = None
) -> datetime:
    """``at`` (default now), refused when in the future beyond clock skew or before
    ``not_before`` (a crew cannot arrive before it was dispatched)."""
    now = timezone.now()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        message = _("时间不能晚于当前时间。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    if not_before is not None and at < not_before - CLOCK_SKEW:
        message = _("时间不能早于上一步的时间。")
        raise DomainError(message, code="invalid", fields={field: [message]})
    return min(at, now)


def _status_fields(order: WorkOrder, to: str, at: datetime, now: datetime) -> dict[str, Any]:
    """The columns that follow from entering status ``to`` (kept here so every path agrees)."""
    c = conf()
    if to in (Status.DISPATCHED, Status.CLAIMED):
        return {
            "dispatched_at": at,
            "offer_expires_at": now + c.accept_timeout,
            "pool_expires_at": None,
        }
    if to in (Status.REJECTED, Status.CREATED):
        # Back to dispatch: the crew is released and the order waits again from now.
        return {
            "crew": None,
            "offer_expires_at": None,
            "pool_expires_at": None,
            "dispatched_at": None,
            "accepted_at": None,
            "departed_at": None,
            "claimed_at": None,
            "waiting_since": now,
        }
    if to == Status.ACCEPTED:
        return {"accepted_at": at, "offer_expires_at": None}
    if to == Status.EN_ROUTE:
        return {"departed_at": at}
    if to == Status.ON_SITE:
        return {"arrived_at": at}
    if to == Status.COMPLETED:
        return {"completed_at": at}
    if to in (Status.CLOSED, Status.CANCELLED, Status.MERGED):
        return {"closed_at": at, "offer_expires_at": None, "pool_expires_at": None}
    return {}


def cas(
    *,
    order: WorkOrder,
    to: str,
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> tuple[str, datetime]:
    """Compare-and-set ``order`` from the status and version the caller saw to ``to``.

    Checks the transition table, writes the status, the columns that follow from it and
    ``extra`` in one ``UPDATE ... WHERE status=<seen> AND version=<seen>``, bumps ``version``
    and updates ``order`` in memory. The version seen is ``expected_version`` when given (what
    a client last read, e.g. the console's form), else ``order.version``. ``ConcurrentUpdate``
    when somebody changed it first. Returns the previous status and ``at``. The caller
    writes the timeline row.
    """
    current = order.status
    if to not in Status.values or to not in WorkOrder.ALLOWED_TRANSITIONS.get(current, ()):
        raise TransitionNotAllowed(current, to)
    seen = order.version if expected_version is None else expected_version
    now = timezone.now()
    at = at or now
    updates = {**_status_fields(order, to, at, now), **(extra or {}), "status": to}
    rows = WorkOrder.objects.filter(pk=order.pk, status=current, version=seen).update(
        version=F("version") + 1, updated_at=now, **updates
    )
    if rows != 1:
        raise ConcurrentUpdate(order.pk)
    for name, value in updates.items():
        setattr(order, name, value)
    order.version = seen + 1
    order.updated_at = now
    return current, at


def cas_dispatch_many(items: Sequence[tuple[WorkOrder, Crew]], *, at: datetime) -> dict[int, str]:
    """``cas`` to dispatched for many orders, each to its own crew, in one ``UPDATE``.

    Each row is matched on the status and version its order had in memory, exactly as
    ``cas`` does; orders whose transition the table refuses are left out. Which rows were
    moved is read back (status dispatched, this crew, this ``dispatched_at``). Returns the
    previous status of each moved order; the orders in memory are updated.
    """
    allowed = [
        (o, c)
        for o, c in items
        if Status.DISPATCHED in WorkOrder.ALLOWED_TRANSITIONS.get(o.status, ())
    ]
    if not allowed:
        return {}
    now = timezone.now()
    fields = _status_fields(allowed[0][0], Status.DISPATCHED, at, now)
    if connection.vendor == "postgresql":
        moved = _cas_dispatch_many_sql(allowed, fields=fields, now=now)
    else:
        match = Q()
        for order, _crew in allowed:
            match |= Q(pk=order.pk, status=order.status, version=order.version)
        WorkOrder.objects.filter(match).update(
            status=Status.DISPATCHED,
            crew_id=Case(
                *[When(pk=o.pk, then=Value(c.pk)) for o, c in allowed],
                output_field=BigIntegerField(),
            ),
            version=F("version") + 1,
            updated_at=now,
            **fields,
        )
        wanted = {o.pk: c.pk for o, c in allowed}
        moved = {
            pk
            for pk, crew_id in WorkOrder.objects.filter(
                pk__in=list(wanted), status=Status.DISPATCHED, dispatched_at=at
            ).values_list("pk", "crew_id")
            if wanted[pk] == crew_id
        }
    previous: dict[int, str] = {}
    for order, crew in allowed:
        if order.pk not in moved:
            continue
        previous[order.pk] = order.status
        for name, value in {**fields, "status": Status.DISPATCHED, "crew": crew}.items():
            setattr(order, name, value)
        order.version += 1
        order.updated_at = now
    return previous


def _cas_dispatch_many_sql(
    items: Sequence[tuple[WorkOrder, Crew]], *, fields: dict[str, Any], now: datetime
) -> set[int]:
    """PostgreSQL: the same compare-and-set as the ORM path, as ``UPDATE ... FROM (VALUES)``
    with ``RETURNING`` (building a 50-branch ``CASE`` through the ORM cost more than the
    update itself)."""
    table = WorkOrder._meta.db_table
    q = connection.ops.quote_name
    columns = {
        str(getattr(WorkOrder._meta.get_field(name), "column", name)): value
        for name, value in fields.items()
    }
    set_sql = ", ".join(f"{q(col)} = %s" for col in columns)
    rows_sql = ", ".join(["(%s::bigint, %s::varchar, %s::integer, %s::bigint)"] * len(items))
    sql = (
        f"UPDATE {q(table)} AS w SET status = %s, crew_id = v.crew_id, "  # noqa: S608
        f"version = w.version + 1, updated_at = %s, {set_sql} "
        f"FROM (VALUES {rows_sql}) AS v (id, status, version, crew_id) "
        "WHERE w.id = v.id AND w.status = v.status AND w.version = v.version "
        "RETURNING w.id"
    )
    params: list[Any] = [Status.DISPATCHED.value, now, *columns.values()]
    for order, crew in items:
        params += [order.pk, order.status, order.version, crew.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def transition(
    *,
    order: WorkOrder,
    to: str,
    actor: User | None,
    actor_label: str = "",
    reason: str = "",
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> WorkOrderEvent:
    """``cas`` plus its timeline row; the caller holds the locks (``lock_for``)."""
    previous_crew = order.crew_id
    current, at = cas(order=order, to=to, at=at, extra=extra, expected_version=expected_version)
    return record_event(
        order=order,
        kind=WorkOrderEvent.Kind.STATUS_CHANGED,
        at=at,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        from_status=current,
        to_status=to,
        crew_id=order.crew_id or previous_crew,
        data=data,
    )


# --- crews -----------------------------------------------------------------------------------


def crew_open_counts(crew_ids: Iterable[int]) -> dict[int, int]:
    """Open orders held per crew (what counts against its capacity)."""
    rows = (
        WorkOrder.objects.filter(crew_id__in=list(crew_ids), status__in=WorkOrder.WITH_CREW)
        .values_list("crew_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def crew_refresh_status(crew_ids: Iterable[int | None]) -> None:
    """Bring ``Crew.status`` (shown on the console map) in line with the crews' orders.

    Off duty wins; then the most advanced open order: on site, en route, assigned; else
    available. Only rows whose status changes are written (``grids.services.crew_status_set``);
    the status is derived from work orders only, so the work-order services decide it.
    """
    ids = sorted({pk for pk in crew_ids if pk is not None})
    if not ids:
        return
    stages: dict[int, set[str]] = {pk: set() for pk in ids}
    for crew_id, status in WorkOrder.objects.filter(
        crew_id__in=ids, status__in=WorkOrder.WITH_CREW
    ).values_list("crew_id", "status"):
        stages[crew_id].add(status)
    on_duty = grid_selectors.crew_on_duty_by_id(ids)
    wanted: dict[str, list[int]] = {}
    new: str
    for pk in ids:
        s = stages[pk]
        if not on_duty.get(pk, True):
            new = Crew.Status.OFF_DUTY
        elif Status.ON_SITE in s:
            new = Crew.Status.ON_SITE
        elif Status.EN_ROUTE in s:
            new = Crew.Status.EN_ROUTE
        elif s:
            new = Crew.Status.ASSIGNED
        else:
            new = Crew.Status.AVAILABLE
        wanted.setdefault(new, []).append(pk)
    for new, pks in wanted.items():
        grid_services.crew_status_set(crew_ids=pks, status=new)


# --- the linked outage ------------------------------------------------------------------------


def moves_outage(order: WorkOrder) -> bool:
    """Only the outage's own repair order moves it (a danger order in the area does not)."""
    return order.outage_id is not None and order.kind == WorkOrder.Kind.OUTAGE_REPAIR


def _outage_to(
    order: WorkOrder,
    *,
    to: str,
    from_any: frozenset[str],
    actor: User | None,
    label: str,
    at: datetime | None,
) -> None:
    if order.outage_id is None:
        return
    outage = outage_selectors.outage_get(outage_id=order.outage_id)
    if outage.status not in from_any:
        return
    outage_services.outage_transition(
        outage=outage,
        to=to,
        actor=actor,
        actor_label=label,
        at=at,
        reason=_("工单 #%(id)s") % {"id": order.pk},
    )


def outage_crew_dispatched(order: WorkOrder, *, actor: User | None, label: str = "") -> None:
    """A crew is on the outage's order: predicted / confirmed → crew_dispatched."""
    if moves_outage(order):
        _outage_to(
            order,
            to=Outage.Status.CREW_DISPATCHED,
            from_any=frozenset({Outage.Status.PREDICTED, Outage.Status.CONFIRMED}),
            actor=actor,
            label=label,
            at=None,
        )


def outage_crew_on_site(
    order: WorkOrder, *, actor: User | None, label: str = "", at: datetime | None = None
) -> None:
    """The crew arrived: predicted / confirmed / crew_dispatched → crew_on_site."""
    if moves_outage(order):
        _outage_to(
            order,
            to=Outage.Status.CREW_ON_SITE,
            from_any=frozenset(
                {Outage.Status.PREDICTED, Outage.Status.CONFIRMED, Outage.Status.CREW_DISPATCHED}
            ),
            actor=actor,
            label=label,
            at=at,
        )


def outage_crew_withdrawn(order: WorkOrder, *, actor: User | None, label: str = "") -> None:
    """The order lost its crew before arrival: crew_dispatched → confirmed, so the public map
    does not claim a crew is on the way while the order waits for a new one."""
    if not moves_outage(order) or order.outage_id is None:
        return
    others = (
        WorkOrder.objects.filter(outage_id=order.outage_id, status__in=WorkOrder.WITH_CREW)
        .exclude(pk=order.pk)
        .exists()
    )
    if not others:
        _outage_to(
            order,
            to=Outage.Status.CONFIRMED,
            from_any=frozenset({Outage.Status.CREW_DISPATCHED}),
            actor=actor,
            label=label,
            at=None,
        )


# --- asking for a crew ------------------------------------------------------------------------

BATCH_SCHEDULED_KEY = "workorders:dispatch-batch-scheduled"


def request_dispatch(order: WorkOrder) -> None:
    """Enqueue the dispatch task for ``order`` once the transaction commits.

    The message carries the order's current ``version``: a message that arrives after the
    order moved on (a duplicate, or one overtaken by a dispatcher) is ignored. The time is
    stamped on the order so the sweeper can re-queue it if the message is lost.
    """
    from workorders.tasks import work_order_dispatch_task

    now = timezone.now()
    WorkOrder.objects.filter(pk=order.pk).update(dispatch_requested_at=now)
    order.dispatch_requested_at = now
    enqueue_on_commit(work_order_dispatch_task, order.pk, order.version, queue="dispatch")
