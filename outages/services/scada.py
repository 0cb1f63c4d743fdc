"""Switch-state telemetry from the SCADA/DMS gateway.

``scada_event_apply`` records one event (``ScadaEvent``, unique per device, event and time:
a repeated delivery changes nothing) and applies it:

* the switch state through ``grids.services.device_set_open`` (which rebuilds the supply
  tree; the roll-up's cached topology follows from the network fingerprint);
* an **uncommanded open** (a trip) confirms an outage below the device: an active outage at
  the device is confirmed; else a predicted (or other active fault) outage whose device the
  tripped one feeds is confirmed and widened to it (the calls guessed too low); else a new
  confirmed fault outage is created at the device (source SCADA). Open reports of customers
  below it are merged into that outage;
* a **commanded open** changes the state only (a planned outage or a dispatcher's switching
  already accounts for it);
* a **close** re-energises what is below the device: every active outage whose device (or
  extra device) is the closed device or above it has those customers restored through
  ``outage_restore_device`` (partially restored when the outage is bigger, restored when
  nobody is left). Outages at devices below it are not touched: they have faults of their own.

An event older than the last one applied to its device (out-of-order delivery) is recorded
as ``stale`` and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import Device
from grids.selectors import device_downstream_device_ids, device_upstream_path
from grids.selectors import reference as grid_reference
from grids.services import device_qs_for_update, device_set_open
from outages.models import Outage, OutageType, ScadaEvent

from . import common
from .interruptions import outage_restore_device, outage_widen
from .lifecycle import outage_create, outage_transition
from .rollup_service import LINE_TYPE, reports_merge_into

logger = logging.getLogger(__name__)

ACTOR_LABEL = "scada"
Status = Outage.Status


class Outcome:
    """What an event did (``ScadaEvent.outcome``)."""

    CREATED = "created"  # a new confirmed outage at the device
    CONFIRMED = "confirmed"  # an existing outage confirmed (and widened to the device)
    ALREADY_KNOWN = "already_known"  # an active confirmed outage at the device already
    COMMANDED = "commanded"  # an operator's switching: state only
    RESTORED = "restored"
    PARTIALLY_RESTORED = "partially_restored"
    NOTHING = "nothing"  # the state changed, no outage affected
    STALE = "stale"  # older than the last event applied to the device: ignored


@dataclass(frozen=True, slots=True)
class ScadaResult:
    """The recorded event; ``duplicate`` when it had been received before."""

    event: ScadaEvent
    duplicate: bool


def scada_event_apply(
    *, device_code: str, event: str, at: datetime, commanded: bool, actor: User | None
) -> ScadaResult:
    """Record and apply one telemetry event; a repeat returns the first record unchanged.

    ``DomainError`` (400, field ``device``) for an unknown or non-switching device.
    """
    device = grid_reference.device_by_code(device_code)
    if device is None:
        message = _("设备 %(code)s 不存在。") % {"code": device_code}
        raise DomainError(message, code="unknown_device", fields={"device": [message]})
    if not device.is_switching:
        message = _("设备 %(code)s 不是开关设备。") % {"code": device_code}
        raise DomainError(message, code="not_switchable", fields={"device": [message]})
    if event not in ScadaEvent.Event.values:
        message = _("事件必须是 open 或 close。")
        raise DomainError(message, code="invalid", fields={"event": [message]})
    common.check_not_future(at)
    existing = _existing(device, event, at)
    if existing is not None:
        return ScadaResult(existing, duplicate=True)
    try:
        return _apply(device=device, event=event, at=at, commanded=commanded, actor=actor)
    except IntegrityError:
        # A concurrent delivery of the same event committed first.
        existing = _existing(device, event, at)
        if existing is None:
            raise
        return ScadaResult(existing, duplicate=True)


def _existing(device: Device, event: str, at: datetime) -> ScadaEvent | None:
    return (
        ScadaEvent.objects.select_related("device", "outage")
        .filter(device=device, event=event, at=at)
        .first()
    )


@transaction.atomic
def _apply(
    *, device: Device, event: str, at: datetime, commanded: bool, actor: User | None
) -> ScadaResult:
    # The device's row lock serialises the events of one device (grids before outages).
    locked = device_qs_for_update([device.pk]).get()
    again = _existing(locked, event, at)
    if again is not None:
        return ScadaResult(again, duplicate=True)
    latest = (
        ScadaEvent.objects.filter(device=locked)
        .exclude(outcome=Outcome.STALE)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    outage: Outage | None = None
    if latest is not None and latest > at:
        outcome = Outcome.STALE
    elif event == ScadaEvent.Event.OPEN:
        outcome, outage = _on_open(locked, at=at, commanded=commanded, actor=actor)
    else:
        outcome, outage = _on_close(locked, at=at, actor=actor)
    record = ScadaEvent(
        device=locked,
        event=event,
        at=at,
        commanded=commanded,
        received_at=timezone.now(),
        outcome=outcome,
        outage=outage,
        received_by=actor,
    )
    record.full_clean(validate_unique=False, validate_constraints=False)
    record.save(force_insert=True)
    return ScadaResult(record, duplicate=False)


def _on_open(
    device: Device, *, at: datetime, commanded: bool, actor: User | None
) -> tuple[str, Outage | None]:
    device = device_set_open(device=device, is_open=True)
    if commanded:
        return Outcome.COMMANDED, None
    reason = _("调度自动化：%(code)s 非操作分闸。") % {"code": device.code}
    unplanned = Outage.objects.filter(
        status__in=Outage.ACTIVE, service_point__isnull=True, planned_start_at__isnull=True
    ).select_related("type__category")
    at_device = (
        unplanned.filter(Q(device=device) | Q(extra_devices=device)).distinct().order_by("pk")
    )
    outage = at_device.first()
    if outage is not None:
        outcome = Outcome.ALREADY_KNOWN
        if outage.status == Status.PREDICTED:
            outage = _confirm(outage, at=at, actor=actor, reason=reason)
            outcome = Outcome.CONFIRMED
    else:
        below = device_downstream_device_ids(device=device)
        explained = list(unplanned.filter(device_id__in=below).order_by("pk"))
        if explained:
            # The calls pointed below the device that actually tripped: confirm and widen.
            target = min(explained, key=lambda o: (o.status != Status.PREDICTED, o.pk))
            outage = outage_widen(
                outage=target,
                device=device,
                actor=actor,
                actor_label=ACTOR_LABEL,
                reason=reason,
                at=min(at, target.started_at or at),
            )
            if outage.status == Status.PREDICTED:
                outage = _confirm(outage, at=at, actor=actor, reason=reason)
            outcome = Outcome.CONFIRMED
        else:
            outage = outage_create(
                type=OutageType.objects.get(code=LINE_TYPE),
                device=device,
                source=Outage.Source.SCADA,
                status=Status.CONFIRMED,
                started_at=at,
                actor=actor,
                actor_label=ACTOR_LABEL,
                reason=reason,
            )
            outcome = Outcome.CREATED
    reports_merge_into(outage=outage)
    return outcome, outage


def _confirm(outage: Outage, *, at: datetime, actor: User | None, reason: str) -> Outage:
    return outage_transition(
        outage=outage,
        to=Status.CONFIRMED,
        actor=actor,
        actor_label=ACTOR_LABEL,
        reason=reason,
        at=max(at, outage.started_at or at),
    )


def _on_close(device: Device, *, at: datetime, actor: User | None) -> tuple[str, Outage | None]:
    device = device_set_open(device=device, is_open=False)
    if not device.energized:
        return Outcome.NOTHING, None  # something above is still open: nothing comes back
    path = [d.pk for d in device_upstream_path(device=device)]
    candidates = (
        Outage.objects.filter(status__in=Outage.ACTIVE, service_point__isnull=True)
        .filter(Q(device_id__in=path) | Q(extra_devices__in=path))
        .distinct()
        .order_by("pk")
    )
    reason = _("调度自动化：%(code)s 合闸复电。") % {"code": device.code}
    outcome, first = Outcome.NOTHING, None
    for outage in candidates:
        try:
            restored = outage_restore_device(
                outage=outage,
                device=device,
                actor=actor,
                actor_label=ACTOR_LABEL,
                reason=reason,
                at=max(at, outage.started_at or at),
            )
        except DomainError as exc:
            logger.info("SCADA close of %s restores nothing of %s: %s", device.code, outage, exc)
            continue
        first = first or restored
        if restored.status == Status.RESTORED:
            outcome = Outcome.RESTORED
        elif outcome != Outcome.RESTORED:
            outcome = Outcome.PARTIALLY_RESTORED
    return outcome, first
