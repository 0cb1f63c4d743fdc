"""Writes of the reliability app: frequent-outage alerts and the stored daily figures.

Every service is safe to run twice: an assessment that finds what is already stored changes
nothing (no row, no timestamp, no timeline entry).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import ConcurrentUpdate, Conflict, TransitionNotAllowed
from grids.models import ServicePoint
from outages import selectors as outage_selectors
from reliability import frequency, indices, scan_selectors, selectors
from reliability.models import DailyReliability, FrequentOutageAlert, FrequentOutageAlertEvent

logger = logging.getLogger(__name__)

Alert = FrequentOutageAlert
Status = FrequentOutageAlert.Status
SCAN_CHUNK = 2000


def _event(alert: Alert, kind: str, *, actor: User | None = None, **data: Any) -> None:
    FrequentOutageAlertEvent.objects.create(
        alert=alert, kind=kind, at=timezone.now(), actor=actor, data=data
    )


@transaction.atomic
def alert_transition(*, alert: Alert, to: str, actor: User | None, reason: str) -> Alert:
    """Move ``alert`` to status ``to`` (open → closed) by compare-and-set, and log it.

    ``reason`` is ``improved`` (the customer's level went down or back to normal),
    ``escalated`` (a higher level's alert replaces it) or a person's note.
    """
    if to not in Alert.ALLOWED_TRANSITIONS[alert.status]:
        raise TransitionNotAllowed(alert.status, to)
    now = timezone.now()
    rows = Alert.objects.filter(pk=alert.pk, status=alert.status).update(
        status=to, closed_at=now, close_reason=reason[:16], last_changed_at=now
    )
    if rows != 1:
        raise ConcurrentUpdate(alert.pk)
    alert.status, alert.closed_at, alert.close_reason, alert.last_changed_at = (
        to,
        now,
        reason[:16],
        now,
    )
    _event(alert, FrequentOutageAlertEvent.Kind.CLOSED, actor=actor, reason=reason)
    return alert


def _stored_key(alert: Alert) -> tuple[Any, ...]:
    return (alert.reason_codes, alert.counts, alert.exclusions, alert.period_start)


def _result_key(result: frequency.Result) -> tuple[Any, ...]:
    """What an open alert stores of a result, as ``_stored_key`` reads it back."""
    return (
        [r.as_dict() for r in result.reasons],
        result.counts,
        list(result.exclusions),
        result.period_start,
    )


def _digest(key: tuple[Any, ...]) -> str:
    """A digest of a stored key (``_result_key``): equal keys give equal digests (canonical
    JSON, keys sorted), so the full scan compares digests in the database."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _content(result: frequency.Result) -> dict[str, Any]:
    key = _result_key(result)
    codes, counts, exclusions, period_start = key
    return {
        "reasons": result.reason_texts(),
        "reason_codes": codes,
        "counts": counts,
        "exclusions": exclusions,
        "period_start": period_start,
        "content_digest": _digest(key),
    }


@dataclass
class _Batch:
    """What ``_apply`` leaves for one statement each: new alerts, alerts whose digest only
    is refreshed; and each result's content, built (and validated) once for the customers
    that share the result (their alerts differ only in the service point)."""

    new: list[Alert] = field(default_factory=list)
    digests: list[Alert] = field(default_factory=list)
    contents: dict[int, dict[str, Any]] = field(default_factory=dict)


def _apply(
    sp_id: int, result: frequency.Result, open_alerts: list[Alert], batch: _Batch
) -> list[str]:
    """Bring one customer's open alerts in line with ``result`` (new alerts and digests go
    to ``batch``, written by the caller). Returns what happened."""
    outcome: list[str] = []
    rank = frequency.LEVEL_RANK[result.level]
    for alert in open_alerts:
        if alert.level != result.level:
            why = "improved" if rank < frequency.LEVEL_RANK[alert.level] else "escalated"
            alert_transition(alert=alert, to=Status.CLOSED, actor=None, reason=why)
            outcome.append("closed")
    if result.level == frequency.NORMAL:
        return outcome
    current = next((a for a in open_alerts if a.level == result.level), None)
    now = timezone.now()
    if current is None:
        content = batch.contents.get(id(result))
        first = content is None
        if content is None:
            content = batch.contents[id(result)] = _content(result)
        alert = Alert(
            service_point_id=sp_id,
            level=result.level,
            as_of=result.as_of,
            first_raised_at=now,
            last_changed_at=now,
            **content,
        )
        if first:
            # The database checks the constraints (one open alert per level) on insert.
            alert.full_clean(exclude=["service_point"], validate_constraints=False)
        batch.new.append(alert)
        return [*outcome, "raised"]
    stored = _result_key(result)
    if _stored_key(current) == stored:
        if current.content_digest != _digest(stored):  # written before the digest existed
            current.content_digest = _digest(stored)
            batch.digests.append(current)
        return outcome  # the steady state: nothing to write
    content = _content(result)
    for key, value in content.items():
        setattr(current, key, value)
    current.as_of = result.as_of
    current.last_changed_at = now
    current.save(update_fields=[*content, "as_of", "last_changed_at"])
    _event(current, FrequentOutageAlertEvent.Kind.CHANGED, counts=result.counts)
    return [*outcome, "changed"]


def _differs(result: frequency.Result, have: list[tuple[str, tuple[Any, ...]]]) -> bool:
    """Whether the open alerts ``have`` (level and stored key of each) disagree with
    ``result``: then the customer's alerts must be written."""
    if result.level == frequency.NORMAL:
        return bool(have)
    return have != [(result.level, _result_key(result))]


def frequent_outage_check(
    *, service_point_ids: Sequence[int], as_of: date | None = None
) -> dict[str, int]:
    """Assess ``service_point_ids`` on ``as_of`` (default today) and raise, update or close
    their alerts. Returns how many were assessed, and how many alerts raised, changed and
    closed."""
    results = selectors.customers_assess(service_point_ids=service_point_ids, as_of=as_of)
    # Compare without locks first: in the steady state (a nightly scan that finds what it
    # stored yesterday) nothing is written and nothing locked.
    stored: dict[int, list[tuple[str, tuple[Any, ...]]]] = defaultdict(list)
    for sp, level, *key in Alert.objects.filter(
        service_point_id__in=list(results), status=Status.OPEN
    ).values_list(
        "service_point_id", "level", "reason_codes", "counts", "exclusions", "period_start"
    ):
        stored[sp].append((level, tuple(key)))
    touched = {sp: r for sp, r in results.items() if _differs(r, stored.get(sp, []))}
    return {"assessed": len(results), **_alerts_write(results=touched)}


@transaction.atomic
def _alerts_write(*, results: dict[int, frequency.Result]) -> dict[str, int]:
    """Raise, update or close the alerts of the customers of ``results`` (those found to
    differ from what is stored); returns how many alerts were raised, changed and closed.

    Locks those service points (ordered by pk, grids before reliability) so an incremental
    check and the nightly scan never race on one customer; ``_apply`` compares again what
    the lock finds, so a customer another check brought up to date meanwhile is left alone."""
    summary = {"raised": 0, "changed": 0, "closed": 0}
    touched = sorted(results)
    if not touched:
        return summary
    list(
        ServicePoint.objects.select_for_update().filter(pk__in=touched).order_by("pk").values("pk")
    )
    open_by_sp: dict[int, list[Alert]] = defaultdict(list)
    for alert in (
        Alert.objects.select_for_update()
        .filter(service_point_id__in=touched, status=Status.OPEN)
        .order_by("pk")
    ):
        open_by_sp[alert.service_point_id].append(alert)
    batch = _Batch()  # ``results`` keeps the results alive: their ids key ``contents``
    for sp in touched:
        for outcome in _apply(sp, results[sp], open_by_sp.get(sp, []), batch):
            summary[outcome] += 1
    if batch.digests:
        Alert.objects.bulk_update(batch.digests, ["content_digest"])
    if batch.new:
        Alert.objects.bulk_create(batch.new)
        at = timezone.now()
        FrequentOutageAlertEvent.objects.bulk_create(
            FrequentOutageAlertEvent(
                alert=a, kind=FrequentOutageAlertEvent.Kind.RAISED, at=at, data={"counts": a.counts}
            )
            for a in batch.new
        )
    return summary


def frequent_outage_check_outage(*, outage_id: int) -> dict[str, int]:
    """The incremental check after a restoration: the customers of ``outage_id`` whose
    supply is back."""
    ids = outage_selectors.outage_service_point_ids(outage_id=outage_id, ended_only=True)
    if not ids:
        return {"assessed": 0, "raised": 0, "changed": 0, "closed": 0}
    summary = {"assessed": 0, "raised": 0, "changed": 0, "closed": 0}
    for i in range(0, len(ids), SCAN_CHUNK):
        for key, value in frequent_outage_check(service_point_ids=ids[i : i + SCAN_CHUNK]).items():
            summary[key] += value
    return summary


def frequent_outage_scan(*, as_of: date | None = None, chunk: int = SCAN_CHUNK) -> list[list[int]]:
    """The full scan's selection: the candidate customers in chunks (see
    ``selectors.scan_candidate_ids``); the caller checks each chunk (a task per chunk)."""
    as_of = as_of or timezone.localdate()
    ids = selectors.scan_candidate_ids(as_of=as_of, policy=selectors.policy_get().as_policy())
    return [ids[i : i + chunk] for i in range(0, len(ids), chunk)]


def frequent_outage_scan_now(*, as_of: date | None = None) -> dict[str, int]:
    """The full scan (the nightly job; the benchmark and the demo seed call it too): every
    customer's level on ``as_of`` (default today), and its alerts brought in line.

    Reads each distinct candidate history once (``selectors.scan_results``), has the
    database compare the results with every open alert (``scan_selectors.open_alerts_differing``)
    and writes only the customers that differ, in transactions of ``SCAN_CHUNK``. A
    customer with an open alert that is no longer a candidate is assessed on its own
    (``frequent_outage_check``) before its alert closes. Running it twice changes nothing."""
    as_of = as_of or timezone.localdate()
    policy = selectors.policy_get().as_policy()
    if connection.vendor != "postgresql" or policy.candidate_thresholds() is None:
        # The embedded SQLite has no array_agg; a policy that warns customers without any
        # interruption leaves nobody to skip.
        return _scan_in_chunks(as_of=as_of)
    with scan_selectors.scan_session():
        groups = list(selectors.scan_results(as_of=as_of, policy=policy))
        differing = scan_selectors.open_alerts_differing(
            wanted=[
                (result.level, _digest(_result_key(result)), sp_ids)
                for result, sp_ids in groups
                if result.level != frequency.NORMAL
            ]
        )
    result_of = {sp: result for result, sp_ids in groups for sp in sp_ids}
    summary = {"assessed": len(result_of), "raised": 0, "changed": 0, "closed": 0}
    touched = sorted(sp for sp in differing if sp in result_of)
    for sps in _chunks(touched, SCAN_CHUNK):
        for key, value in _alerts_write(results={sp: result_of[sp] for sp in sps}).items():
            summary[key] += value
    # Open alerts of customers the prefilter left out: their status has improved.
    others = sorted(sp for sp in differing if sp not in result_of)
    for sps in _chunks(others, SCAN_CHUNK):
        for key, value in frequent_outage_check(service_point_ids=sps, as_of=as_of).items():
            summary[key] += value
    return summary


def _scan_in_chunks(*, as_of: date | None) -> dict[str, int]:
    """The full scan one chunk of candidates at a time (``frequent_outage_check``): slower,
    but portable, and the reference the tests hold the full scan to."""
    summary = {"assessed": 0, "raised": 0, "changed": 0, "closed": 0}
    for ids in frequent_outage_scan(as_of=as_of):
        for key, value in frequent_outage_check(service_point_ids=ids, as_of=as_of).items():
            summary[key] += value
    return summary


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User, note: str = "") -> Alert:
    """A dispatcher has seen the alert (and says what was done). Acknowledging twice keeps
    the first acknowledgement; a later note is appended."""
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    changed: list[str] = []
    if locked.acknowledged_at is None:
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor  # type: ignore[assignment]
        changed += ["acknowledged_at", "acknowledged_by"]
    if note and note not in locked.action_note:
        locked.action_note = f"{locked.action_note}\n{note}".strip()
        changed.append("action_note")
    if not changed:
        return locked
    locked.last_changed_at = timezone.now()
    locked.full_clean()
    locked.save(update_fields=[*changed, "last_changed_at"])
    _event(locked, FrequentOutageAlertEvent.Kind.ACKNOWLEDGED, actor=actor, note=note)
    return locked


@transaction.atomic
def alert_link_work_order(
    *, alert: Alert, work_order_id: int, actor: User | None, note: str = ""
) -> Alert:
    """Record the inspection work order raised from ``alert`` (the work-order app calls this
    after raising it). Linking the same order again changes nothing; another order is refused."""
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.work_order_id == work_order_id:
        return locked
    if locked.work_order_id is not None:
        raise Conflict(_("该告警已关联工单 %(id)s。") % {"id": locked.work_order_id})
    now = timezone.now()
    locked.work_order_id = work_order_id
    if locked.acknowledged_at is None and actor is not None:
        locked.acknowledged_at, locked.acknowledged_by = now, actor  # type: ignore[assignment]
    if note:
        locked.action_note = f"{locked.action_note}\n{note}".strip()
    locked.last_changed_at = now
    locked.full_clean()
    locked.save()
    _event(locked, FrequentOutageAlertEvent.Kind.LINKED, actor=actor, work_order=work_order_id)
    return locked


# --- daily figures -------------------------------------------------------------------------


@transaction.atomic
def reliability_daily_compute(
    *, day: date, served: dict[tuple[str, int], int] | None = None
) -> int:
    """Store ``day``'s totals per scope (city, district, grid, feeder) and split (all,
    planned, fault), and flag it a major-event day by 2.5-beta once a year of history exists.
    Recomputing a day replaces its rows with the same figures. Returns the rows written."""
    policy_row = selectors.policy_get()
    threshold = policy_row.sustained_threshold
    rows = list(
        outage_selectors.interruptions_for_reliability(
            started_from=selectors.local_midnight(day),
            started_before=selectors.local_midnight(day + timedelta(days=1)),
        )
    )
    rows = [r for r in rows if r["outage__type__counts_in_reliability"]]
    places = {
        p["id"]: p
        for p in selectors.service_point_places(ids={r["service_point_id"] for r in rows})
    }
    served = served if served is not None else selectors.customers_served()
    totals: dict[tuple[str, int, str], indices.Totals] = defaultdict(indices.Totals)
    records = [
        indices.CustomerInterruption(
            customer=r["service_point_id"],
            start=r["started_at"],
            end=r["ended_at"] or timezone.now(),
            planned=r["outage__type__category__code"] == "planned",
        )
        for r in rows
    ]
    for rec in indices.merge_overlaps(records):
        one = (
            indices.Totals(1, indices.minutes(rec.start, rec.end), 0, 1, 0)
            if indices.is_sustained(rec.start, rec.end, threshold)
            else indices.Totals(0, 0.0, 1, 0, 1)
        )
        place = places.get(int(rec.customer), {})  # type: ignore[call-overload]
        scopes = [("city", 0)] + [
            (scope, place.get(field))
            for scope, field in (
                ("district", "district_id"),
                ("grid", "grid_id"),
                ("feeder", "transformer__feeder_id"),
            )
            if place.get(field) is not None
        ]
        for scope, scope_id in scopes:
            for split in ("all", "planned" if rec.planned else "fault"):
                key = (scope, int(scope_id), split)  # type: ignore[arg-type]
                totals[key] = totals[key] + one
    for split in ("all", "planned", "fault"):
        totals.setdefault(("city", 0, split), indices.Totals())
    now = timezone.now()
    DailyReliability.objects.filter(day=day).delete()
    DailyReliability.objects.bulk_create(
        [
            DailyReliability(
                day=day,
                scope=scope,
                scope_id=scope_id,
                split=split,
                customers_served=served.get((scope, scope_id), 0),
                customer_interruptions=t.customer_interruptions,
                customer_minutes=t.customer_minutes,
                momentary_interruptions=t.momentary_interruptions,
                threshold_minutes=policy_row.sustained_threshold_minutes,
                computed_at=now,
            )
            for (scope, scope_id, split), t in totals.items()
        ]
    )
    reliability_major_event_flag(day=day)
    return len(totals)


def reliability_major_event_flag(*, day: date) -> bool:
    """Flag ``day`` a major-event day when its city SAIDI exceeds T_MED of the five years
    before it (2.5-beta; at least a year of history, else no day is flagged)."""
    history = selectors.daily_city_saidi(
        since=day - timedelta(days=5 * 365), until=day - timedelta(days=1)
    )
    t_med = indices.major_event_threshold(history)
    today = selectors.daily_city_saidi(since=day, until=day).get(day, 0.0)
    flagged = t_med is not None and today > t_med
    DailyReliability.objects.filter(day=day).update(major_event_day=flagged)
    return flagged


def reliability_days_compute(*, days: Iterable[date]) -> int:
    """``reliability_daily_compute`` for each day, oldest first (the flags need the past)."""
    served = selectors.customers_served()
    return sum(reliability_daily_compute(day=d, served=served) for d in sorted(days))
