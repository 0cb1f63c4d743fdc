"""Running the roll-up engine (``outages.rollup``) on the open trouble reports.

``rollup_run`` reads the pending reports of the window (and the single-premise ones, which a
later call may still explain), the supply tree as the engine's ``Topology`` and the devices
of active outages, runs ``rollup()`` and acts on the answer through the outage services:

* each prediction becomes a *predicted* outage at its device (source ``rollup``), or widens
  the active outage it absorbs (``Prediction.absorbs`` → ``outage_widen``); its reports
  become ``predicted`` and point at it;
* reports under an active outage's device (``covered_reports``) are merged into it;
* a lone report becomes ``single_premise`` (with ``report.needs_premise_visit``) once it has
  waited ``OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY`` seconds for neighbours, or at once when it
  is older than the window.

One run at a time (a PostgreSQL advisory lock held by the transaction); a run is idempotent
because it only moves reports out of ``pending`` / ``single_premise`` with conditional
updates. Triggers: ``rollup_request`` after each intake commit (debounced through the cache,
at most one queued run) and the beat sweeper (``outages.tasks.intake``) as the safety net.

The topology is cached per process and per *network fingerprint* (device count, the set of
open devices, the number of de-energised devices), so switching anywhere rebuilds it; the
customer counts per transformer are refreshed at least every ``TOPOLOGY_MAX_AGE`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.tasks import send_task_safely
from grids.models import Device, ServicePoint
from outages import cache_client, events
from outages.models import Interruption, Outage, OutageType, TroubleReport
from outages.rollup import FaultKind, FaultMix, Mode, Report, RollupConfig, Topology, rollup

from .interruptions import outage_widen
from .lifecycle import outage_create

logger = logging.getLogger(__name__)

Status = TroubleReport.Status
ACTOR_LABEL = "rollup"
DEBOUNCE_KEY = "outages:rollup:scheduled"
# Any constant identifies the lock; this one spells "ROLLUP" in ASCII.
ADVISORY_LOCK_ID = 0x524F4C4C5550
TOPOLOGY_MAX_AGE = 600.0
TRANSFORMER_TYPE = "fault_transformer"
LINE_TYPE = "fault_mv_feeder"


@dataclass(slots=True)
class RollupRunResult:
    """What one run did (ids of the outages it created / widened, report counts)."""

    skipped: bool = False
    created: list[int] = field(default_factory=list)
    widened: list[int] = field(default_factory=list)
    predicted_reports: int = 0
    merged_reports: int = 0
    single_premise_reports: int = 0


# --- configuration and trigger -------------------------------------------------------------


def rollup_config() -> RollupConfig:
    """The engine's settings: storm settings when ``OUTAGE_ROLLUP_STORM_MODE`` is on, the
    fault mix from ``OUTAGE_ROLLUP_FAULT_MIX`` (shares by kind; missing kinds keep their
    default share)."""
    mode = Mode(getattr(settings, "OUTAGE_ROLLUP_MODE", Mode.LIKELIHOOD))
    shares = dict(getattr(settings, "OUTAGE_ROLLUP_FAULT_MIX", None) or {})
    unknown = sorted(set(shares) - {kind.value for kind in FaultKind})
    if unknown:
        raise ImproperlyConfigured(
            f"OUTAGE_ROLLUP_FAULT_MIX names unknown kinds {unknown}; "
            f"use {[kind.value for kind in FaultKind]}"
        )
    mix = FaultMix(**{k: float(v) for k, v in shares.items()})
    if getattr(settings, "OUTAGE_ROLLUP_STORM_MODE", False):
        return RollupConfig.storm(mode=mode, fault_mix=mix)
    return RollupConfig(mode=mode, fault_mix=mix)


# monotonic() until which a queued run will still read what this process commits.
_queued_until = 0.0


def rollup_request() -> None:
    """Queue one roll-up run ``OUTAGE_ROLLUP_DEBOUNCE_SECONDS`` from now, unless one is queued.

    Called after an intake commits. The cache key holds the queued run's start time and is
    set only if absent (atomic in Redis), so a burst of calls queues one run. The key expires
    when that run is due to start, and the run deletes it before reading the reports, so a
    report committed once the run may have started queues the next one. Until half the time
    left before that start (half, for clock skew between hosts) a process skips the cache:
    the run has not started and will read what it commits. Each process thus asks Redis
    about twice per countdown, not on every call of a storm (as it did while the key
    outlived the countdown), and a lost message delays the next run by one countdown at
    most. Never raises: a broker outage must not fail the caller's request (the sweeper
    runs it anyway).
    """
    global _queued_until
    if not getattr(settings, "OUTAGE_INTAKE_TRIGGER_ROLLUP", True):
        return
    from outages.tasks.intake import rollup_run_task

    delay = float(getattr(settings, "OUTAGE_ROLLUP_DEBOUNCE_SECONDS", 3.0))
    eager = bool(rollup_run_task.app.conf.task_always_eager)  # runs now, not in `delay`
    now = time.monotonic()
    if not eager and now < _queued_until:
        return
    try:
        starts_ms = int((time.time() + delay) * 1000)
        # The key lives until the queued run starts (see above).
        queued = cache_client.set_once(DEBOUNCE_KEY, starts_ms, ttl=delay)
        if queued is None:
            send_task_safely(rollup_run_task, (), {"countdown": delay})
            queued = starts_ms
        _queued_until = now + max(queued / 1000 - time.time(), 0) / 2
    except Exception:
        logger.exception("Could not queue the roll-up; the sweeper will run it")


def rollup_request_clear() -> None:
    """Called by a starting run: reports committed from now on queue another run."""
    cache.delete(DEBOUNCE_KEY)


# --- topology ------------------------------------------------------------------------------


@dataclass(slots=True)
class _CachedTopology:
    key: tuple[Any, ...]
    topology: Topology
    built: float


_topology_lock = threading.Lock()
_topology_cache: dict[str, _CachedTopology] = {}


def network_fingerprint() -> tuple[Any, ...]:
    """A cheap summary that changes whenever the supply tree can have changed (one query)."""
    row = Device.objects.aggregate(
        n=Count("pk"),
        top=Max("pk"),
        open_n=Count("pk", filter=Q(is_open=True)),
        open_sum=Sum("pk", filter=Q(is_open=True)),
        dead=Count("pk", filter=Q(energized=False)),
    )
    return (row["n"], row["top"], row["open_n"], row["open_sum"], row["dead"])


def rollup_topology() -> Topology:
    """The engine's view of the current supply tree, cached per network fingerprint.

    ``parent``: each energised device's ``fed_from`` (a de-energised device stands alone: the
    engine can still predict it, never above it). ``closed``: energised, closed devices of the
    kinds that report to SCADA (``OUTAGE_ROLLUP_TELEMETERED_KINDS``): telemetry would have
    told us if they were out, so nothing at or above them is predicted.
    """
    key = network_fingerprint()
    with _topology_lock:
        cached = _topology_cache.get("default")
        if (
            cached is not None
            and cached.key == key
            and time.monotonic() - cached.built < TOPOLOGY_MAX_AGE
        ):
            return cached.topology
        topology = _build_topology()
        _topology_cache["default"] = _CachedTopology(key, topology, time.monotonic())
        return topology


def rollup_topology_invalidate() -> None:
    """Forget the cached topology (tests; a network import)."""
    with _topology_lock:
        _topology_cache.clear()


def _build_topology() -> Topology:
    telemetered = set(getattr(settings, "OUTAGE_ROLLUP_TELEMETERED_KINDS", ("breaker", "recloser")))
    parent: dict[Any, Any] = {}
    switching: set[int] = set()
    transformers: set[int] = set()
    closed: set[int] = set()
    kinds: dict[Any, FaultKind] = {}
    rows = Device.objects.order_by().values_list(
        "pk", "kind", "fed_from_id", "energized", "is_open"
    )
    for pk, kind, fed_from, energized, is_open in rows:
        parent[pk] = fed_from if energized else None
        if kind == Device.Kind.TRANSFORMER:
            transformers.add(pk)
        elif kind in Device.SWITCHING_KINDS:
            switching.add(pk)
            # A fuse protects a lateral; the others are switches of the fault mix.
            kinds[pk] = FaultKind.LATERAL if kind == Device.Kind.FUSE else FaultKind.SWITCH
            if kind in telemetered and energized and not is_open:
                closed.add(pk)
    for pk, up in parent.items():
        if up is not None and up not in parent:  # a dangling pointer must not break the index
            parent[pk] = None
    counts = (
        ServicePoint.objects.order_by()
        .values_list("transformer_id")
        .annotate(n=Count("pk"))
        .values_list("transformer_id", "n")
    )
    customers: dict[Any, int] = {t: n for t, n in counts if t in parent}
    return Topology(
        parent=parent,
        customers=customers,
        switching=frozenset(switching),
        transformers=frozenset(transformers),
        closed=frozenset(closed),
        kinds=kinds,
    )


# --- the run -------------------------------------------------------------------------------


def _try_lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite (the demo) serialises writers anyway
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])
        return bool(cursor.fetchone()[0])


def _covered_devices() -> dict[Any, int]:
    """Device → active outage (the oldest) for every device of an active outage.

    Single-premise outages are left out: their transformer is not out, one customer is.
    """
    active = Outage.objects.filter(status__in=Outage.ACTIVE, service_point__isnull=True)
    covered: dict[Any, int] = {}
    for outage_id, device_id in active.order_by("pk").values_list("pk", "device_id"):
        covered.setdefault(device_id, outage_id)
    extras = Outage.extra_devices.through.objects.filter(
        outage__status__in=Outage.ACTIVE, outage__service_point__isnull=True
    ).order_by("outage_id")
    for outage_id, device_id in extras.values_list("outage_id", "device_id"):
        covered.setdefault(device_id, outage_id)
    return covered


@transaction.atomic
def rollup_run(
    *, now: datetime | None = None, config: RollupConfig | None = None
) -> RollupRunResult:
    """Group the open reports and act on the predictions (see the module docstring).

    Returns ``skipped=True`` when another run holds the lock.
    """
    if not _try_lock():
        return RollupRunResult(skipped=True)
    now = now or timezone.now()
    config = config or rollup_config()
    result = RollupRunResult()
    rows = list(
        TroubleReport.objects.filter(service_point__isnull=False)
        .filter(
            Q(status=Status.PENDING)
            | Q(status=Status.SINGLE_PREMISE, received_at__gte=now - config.window)
        )
        .order_by("received_at", "pk")
        .values_list(
            "pk", "service_point_id", "service_point__transformer_id", "received_at", "status"
        )
    )
    if not any(row[4] == Status.PENDING for row in rows):
        return result
    status_of: dict[Any, str] = {row[0]: row[4] for row in rows}
    at_of: dict[Any, datetime] = {row[0]: row[3] for row in rows}
    sp_of: dict[Any, int] = {row[0]: row[1] for row in rows}
    covered = _covered_devices()
    answer = rollup(
        [Report(pk, sp, transformer, at) for pk, sp, transformer, at, _s in rows],
        rollup_topology(),
        config=config,
        covered=covered.keys(),
        now=now,
    )
    if answer.future_report_ids:
        # A clock ahead of the database's: they stay pending for a later run.
        logger.warning("Roll-up: %s reports dated after now", len(answer.future_report_ids))

    for prediction in answer.predictions:
        outage = _act_on_prediction(prediction, covered, at_of, now)
        if outage is None:
            continue
        result.predicted_reports += _move(
            list(prediction.report_ids), Status.PREDICTED, outage=outage.pk, now=now
        )
        (result.widened if prediction.absorbs else result.created).append(outage.pk)

    result.merged_reports += _merge_covered(answer.covered_reports, covered, sp_of, now)

    result.single_premise_reports += _request_premise_visits(
        answer.single_premise, answer.stale_report_ids, status_of, at_of, sp_of, now
    )
    if result.created or result.widened:
        logger.info(
            "Roll-up: created %s, widened %s, %s reports predicted",
            result.created,
            result.widened,
            result.predicted_reports,
        )
    return result


def _request_premise_visits(
    single_premise: Any,
    stale_report_ids: tuple[Any, ...],
    status_of: dict[Any, str],
    at_of: dict[Any, datetime],
    sp_of: dict[Any, int],
    now: datetime,
) -> int:
    """Move lone and stale pending reports to single premise (a premise visit), once their
    hold is over; returns how many moved."""
    hold = timedelta(seconds=float(getattr(settings, "OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY", 180)))
    lone = [(r.service_point, list(r.report_ids)) for r in single_premise]
    stale_ids = set(stale_report_ids)
    stale: dict[int, list[Any]] = defaultdict(list)
    for pk in stale_report_ids:
        stale[sp_of[pk]].append(pk)
    moved_total = 0
    for sp, ids in [*lone, *stale.items()]:
        waiting = [pk for pk in ids if status_of[pk] == Status.PENDING]
        if not waiting:
            continue  # already single premise: its visit was requested before
        is_stale = waiting[0] in stale_ids
        if not is_stale and min(at_of[pk] for pk in waiting) > now - hold:
            continue  # give the neighbours time to call
        moved = _move(waiting, Status.SINGLE_PREMISE, outage=None, now=now)
        if moved:
            moved_total += moved
            events.publish(
                events.REPORT_NEEDS_PREMISE_VISIT,
                report_id=waiting[0],
                service_point_id=sp,
                report_ids=waiting,
            )
    return moved_total


def _act_on_prediction(
    prediction: Any, covered: dict[Any, int], at_of: dict[Any, datetime], now: datetime
) -> Outage | None:
    """Create the predicted outage, or widen the active one the prediction absorbs."""
    device = Device.objects.get(pk=prediction.device)
    reason = _("报修研判：%(callers)s 户报修（该设备下共 %(customers)s 户）。") % {
        "callers": prediction.callers,
        "customers": prediction.customers,
    }
    absorbed = (
        Outage.objects.filter(pk__in={covered[d] for d in prediction.absorbs if d in covered})
        .filter(status__in=Outage.ACTIVE, planned_start_at__isnull=True)
        .order_by("pk")
    )
    # Widen a predicted outage rather than a confirmed one, the oldest first.
    target = min(absorbed, key=lambda o: (o.status != Outage.Status.PREDICTED, o.pk), default=None)
    if target is not None:
        return outage_widen(
            outage=target, device=device, actor=None, actor_label=ACTOR_LABEL, reason=reason
        )
    started_at = min((at_of[pk] for pk in prediction.report_ids), default=now)
    return outage_create(
        type=_type_for(device),
        device=device,
        source=Outage.Source.ROLLUP,
        status=Outage.Status.PREDICTED,
        started_at=min(started_at, now),
        actor=None,
        actor_label=ACTOR_LABEL,
        reason=reason,
    )


def _type_for(device: Device) -> OutageType:
    code = TRANSFORMER_TYPE if device.kind == Device.Kind.TRANSFORMER else LINE_TYPE
    return OutageType.objects.get(code=code)


def _move(ids: list[Any], status: str, *, outage: int | None, now: datetime) -> int:
    """Move reports still open (pending / single premise) to ``status``; returns how many."""
    return TroubleReport.objects.filter(
        pk__in=ids, status__in=(Status.PENDING, Status.SINGLE_PREMISE)
    ).update(status=status, outage_id=outage, updated_at=now)


def _merge_covered(
    covered_reports: Any, covered: dict[Any, int], sp_of: dict[Any, int], now: datetime
) -> int:
    """Merge reports below active outages' devices: into the outage that has the customer out
    (innermost), else the outage at the covering device."""
    if not covered_reports:
        return 0
    sps = {sp_of[pk] for pk in covered_reports}
    out_in = dict(
        Interruption.objects.filter(
            service_point_id__in=sps,
            started_at__isnull=False,
            ended_at__isnull=True,
            outage__status__in=Outage.ACTIVE,
        )
        .order_by("outage__depth", "-started_at")  # the innermost (deepest) comes last and wins
        .values_list("service_point_id", "outage_id")
    )
    by_outage: dict[int, list[Any]] = defaultdict(list)
    for pk, device in covered_reports.items():
        by_outage[out_in.get(sp_of[pk], covered[device])].append(pk)
    moved = 0
    for outage_id, ids in by_outage.items():
        moved += TroubleReport.objects.filter(
            pk__in=ids, status__in=(Status.PENDING, Status.SINGLE_PREMISE)
        ).update(status=Status.MERGED, outage_id=outage_id, updated_at=now)
    return moved


def reports_merge_into(*, outage: Outage, now: datetime | None = None) -> int:
    """Merge the open reports of customers out in ``outage`` into it (after SCADA confirmed
    it). Pending ones of any age, single-premise ones of the last roll-up window."""
    now = now or timezone.now()
    window = rollup_config().window
    out = Interruption.objects.filter(
        outage=outage, started_at__isnull=False, ended_at__isnull=True
    ).values("service_point_id")
    return (
        TroubleReport.objects.filter(service_point_id__in=out)
        .filter(
            Q(status=Status.PENDING)
            | Q(status=Status.SINGLE_PREMISE, received_at__gte=now - window)
        )
        .update(status=Status.MERGED, outage=outage, updated_at=now)
    )
