"""Who is out: partial restoration, widening an outage, nested outages."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError, TransitionNotAllowed
from grids.models import Device, ServicePoint
from outages import events
from outages.models import Interruption, Outage, OutageCategory, OutageEvent, OutageType

from . import common
from .lifecycle import create_outage_row, transition

Status = Outage.Status


@transaction.atomic
def outage_restore_device(
    *,
    outage: Outage,
    device: Device,
    actor: User | None,
    at: datetime | None = None,
    reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Record that ``device`` re-energised part of ``outage`` at ``at`` (default now).

    Ends exactly the active interruptions of the service points below ``device`` (under the
    switch states of this moment; restore after switching). A service point that an open
    nested outage of this one also covers is still off: its interruption moves to that
    outage (innermost first) instead of ending, so it stays one continuous interruption.
    Then the outage becomes partially_restored, or restored when nobody is left. Takes the
    outage's lock. ``DomainError`` when the device restores none of its customers.
    """
    locked = common.outage_lock(outage)
    if locked.status not in Outage.ACTIVE:
        raise TransitionNotAllowed(locked.status, Status.PARTIALLY_RESTORED)
    at = at or timezone.now()
    common.check_not_future(at)
    below = common.scope_service_points(device=device)
    rows = common.active_rows(locked).filter(service_point_id__in=below.values("pk"))

    rows, transferred = _move_to_nested(locked, rows)
    ended = common.end_interruptions(rows, at)
    if not ended and not transferred:
        message = _("该设备下没有本次停电仍未恢复的用户。")
        raise DomainError(message, code="nothing_restored", fields={"device": [message]})

    common.record_event(
        outage=locked,
        kind=OutageEvent.Kind.DEVICE_RESTORED,
        at=at,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={
            "device_id": device.pk,
            "device": device.code,
            "customers": ended,
            "moved_to_nested": {str(k): v for k, v in transferred.items()},
        },
    )
    for child_id, count in transferred.items():
        _record_moved_in(
            child_id, source=locked, count=count, at=at, actor=actor, actor_label=actor_label
        )
    common.recount(locked)
    common.refresh_area(locked)
    locked.refresh_from_db()
    to: str
    if not common.active_rows(locked).exists():
        to = Status.RESTORED
    elif Interruption.objects.filter(outage=locked, ended_at__isnull=False).exists():
        to = Status.PARTIALLY_RESTORED
    else:  # every customer below the device moved to a nested outage; the rest still out
        to = locked.status
    if to != locked.status:
        return transition(
            outage=locked, to=to, actor=actor, reason=reason, at=at, actor_label=actor_label
        )
    common.publish_changed(locked)
    return locked


def _move_to_nested(
    outage: Outage, rows: QuerySet[Interruption]
) -> tuple[QuerySet[Interruption], dict[int, int]]:
    """Move the interruptions among ``rows`` that an open nested outage of ``outage`` also
    covers to that outage (innermost first); the rows left to end, and ``{child id: moved}``.
    Caller holds the outage's lock."""
    transferred: dict[int, int] = {}
    descendants = _open_descendants(outage)
    if not descendants:
        return rows, transferred
    candidates = dict(rows.values_list("service_point_id", "pk"))
    for child in descendants:
        taken = (common.outage_scope_ids(child) & candidates.keys()) - set(
            Interruption.objects.filter(outage=child).values_list("service_point_id", flat=True)
        )
        if taken:
            Interruption.objects.filter(pk__in=[candidates.pop(sp) for sp in taken]).update(
                outage=child
            )
            transferred[child.pk] = len(taken)
    return Interruption.objects.filter(pk__in=candidates.values()), transferred


def _record_moved_in(
    child_id: int,
    *,
    source: Outage,
    count: int,
    at: datetime,
    actor: User | None,
    actor_label: str,
) -> None:
    """Timeline, counts and change event of a nested outage that took ``count`` customers."""
    child = Outage.objects.get(pk=child_id)
    common.record_event(
        outage=child,
        kind=OutageEvent.Kind.CUSTOMERS_ADDED,
        at=at,
        actor=actor,
        actor_label=actor_label,
        data={"from_outage": source.pk, "customers": count},
    )
    common.after_scope_change(child)
    child.refresh_from_db()
    common.publish_changed(child)


def _open_descendants(outage: Outage) -> list[Outage]:
    """Active outages nested (at any depth) below ``outage``, innermost first."""
    tree = list(
        Outage.objects.filter(root_id=outage.root_id_or_self, status__in=Outage.ACTIVE)
        .exclude(pk=outage.pk)
        .select_related("device")
    )
    if not tree:
        return []
    parents = dict(
        Outage.objects.filter(root_id=outage.root_id_or_self).values_list("pk", "parent_id")
    )

    def below(o: Outage) -> bool:
        p = o.parent_id
        while p is not None:
            if p == outage.pk:
                return True
            p = parents.get(p)
        return False

    return sorted((o for o in tree if below(o)), key=lambda o: (-o.depth, o.pk))


@transaction.atomic
def outage_open_nested(
    *,
    parent: Outage,
    actor: User | None,
    service_point: ServicePoint | None = None,
    device: Device | None = None,
    type: OutageType | None = None,
    source: str = Outage.Source.ROLLUP,
    status: str = Status.PREDICTED,
    started_at: datetime | None = None,
    reason: str = "",
    actor_label: str = "",
) -> Outage:
    """Open a child outage of ``parent`` for customers it restored who are still off.

    Give ``service_point`` (a single premise: the call of a customer whose interruption in
    ``parent`` ended) or ``device`` (everything below it: a second fault found below the
    first). Customers still out in the tree stay counted where they are (one active
    interruption per tree) and move to the child when the parent restores them
    (``outage_restore_device``), so a device child may start empty; a single-premise child
    whose customer is still out in the tree is refused (``Conflict``: merge the call
    instead). The type defaults to single premise / transformer fault / the parent's type.
    Publishes ``outage.predicted`` (or ``outage.confirmed``).
    """
    if (service_point is None) == (device is None):
        raise DomainError(_("请指定一个用户或一个设备。"), code="invalid")
    if parent.status not in Outage.ACTIVE | {Status.RESTORED}:
        raise Conflict(_("该停电事件已结束，请新建停电事件。"), code="parent_finished")
    if status not in (Status.PREDICTED, Status.CONFIRMED):
        raise DomainError(_("新的故障停电只能是研判中或已确认状态。"), code="invalid")
    main = device if device is not None else _transformer_of(service_point)
    type = type or _nested_type(parent, main, single=service_point is not None)
    started_at = started_at or timezone.now()
    common.check_not_future(started_at, field="started_at")
    child = create_outage_row(
        type=type,
        device=main,
        status=status,
        source=source,
        actor=actor,
        actor_label=actor_label,
        started_at=started_at,
        service_point=service_point,
        parent=parent,
        reason=reason,
    )
    scope = common.scope_service_points(device=main, service_point=service_point)
    common.insert_interruptions(outage=child, service_points=scope, started_at=started_at)
    if service_point is not None and not Interruption.objects.filter(outage=child).exists():
        # The caller is still out in the tree: the intake merges the call there instead.
        raise Conflict(
            _("该用户仍在停电事件 #%(id)s 中，无需新建。") % {"id": parent.pk},
            code="still_out_in_tree",
        )
    if service_point is None and not scope.exists():
        message = _("该设备下没有用户。")
        raise DomainError(message, code="empty_scope", fields={"device": [message]})
    common.after_scope_change(child)
    common.record_event(
        outage=parent,
        kind=OutageEvent.Kind.NESTED_OPENED,
        at=started_at,
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={"child": child.pk},
    )
    common.bump(parent.pk)
    parent.refresh_from_db()
    common.publish_changed(parent)
    child.refresh_from_db()
    events.publish(
        events.OUTAGE_PREDICTED if status == Status.PREDICTED else events.OUTAGE_CONFIRMED,
        outage_id=child.pk,
    )
    common.publish_changed(child)
    return child


def _transformer_of(service_point: ServicePoint | None) -> Device:
    assert service_point is not None
    return Device.objects.get(pk=service_point.transformer_id)


def _nested_type(parent: Outage, device: Device, *, single: bool) -> OutageType:
    code = None
    if single:
        code = "fault_single_premise"
    elif device.kind == Device.Kind.TRANSFORMER:
        code = "fault_transformer"
    if code:
        found = OutageType.objects.filter(code=code).first()
        if found:
            return found
    if parent.type.category.code == OutageCategory.Code.FAULT:
        return parent.type
    return (
        OutageType.objects.filter(category__code=OutageCategory.Code.FAULT).first() or parent.type
    )


@transaction.atomic
def outage_widen(
    *,
    outage: Outage,
    device: Device,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    actor_label: str = "",
) -> Outage:
    """Move the outage's main device to ``device`` (usually further upstream) and add the
    customers below it.

    The old main device stays among the outage's devices. New customers' interruptions start
    at ``at`` (default: the outage's start, when the roll-up finds that more customers were
    out all along). Publishes ``outage.customers_changed``.
    """
    return _extend(
        outage=outage,
        device=device,
        actor=actor,
        reason=reason,
        at=at,
        actor_label=actor_label,
        make_main=True,
    )


@transaction.atomic
def outage_add_device(
    *,
    outage: Outage,
    device: Device,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    actor_label: str = "",
) -> Outage:
    """Add ``device`` to the outage's devices and its customers to the outage."""
    return _extend(
        outage=outage,
        device=device,
        actor=actor,
        reason=reason,
        at=at,
        actor_label=actor_label,
        make_main=False,
    )


def _extend(
    *,
    outage: Outage,
    device: Device,
    actor: User | None,
    reason: str,
    at: datetime | None,
    actor_label: str,
    make_main: bool,
) -> Outage:
    locked = common.outage_lock(outage)
    if locked.status not in Outage.ACTIVE | Outage.NOT_STARTED:
        raise Conflict(_("只有未结束的停电事件可以扩大范围。"), code="not_active")
    if locked.service_point_id is not None:
        raise Conflict(_("单户停电不能扩大范围，请新建停电事件。"), code="single_premise")
    if device.pk == locked.device_id or locked.extra_devices.filter(pk=device.pk).exists():
        return locked
    if locked.status in Outage.NOT_STARTED:
        started_at = None
    else:
        started_at = at or locked.started_at or timezone.now()
        common.check_not_future(started_at)
    if make_main:
        locked.extra_devices.add(locked.device_id)
        common.bump(locked.pk, device=device)
    else:
        locked.extra_devices.add(device)
        common.bump(locked.pk)
    before = Interruption.objects.filter(outage=locked).count()
    common.insert_interruptions(
        outage=locked,
        service_points=common.scope_service_points(device=device),
        started_at=started_at,
    )
    added = Interruption.objects.filter(outage=locked).count() - before
    common.record_event(
        outage=locked,
        kind=OutageEvent.Kind.CUSTOMERS_ADDED,
        at=timezone.now(),
        actor=actor,
        actor_label=actor_label,
        reason=reason,
        data={"device_id": device.pk, "device": device.code, "customers": added, "main": make_main},
    )
    common.after_scope_change(locked)
    locked.refresh_from_db()
    common.publish_changed(locked)
    return locked
