"""Reads of the reliability app: the active policy, customers' levels, alerts, aggregates,
stored indices and the planned-outage preview.

Interruptions are read through ``outages.selectors``; the service points' places (transformer,
feeder, grid, district, station) are plain reads of ``grids`` rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone

from grids.models import ServicePoint
from grids.selectors import reference as grid_reference
from outages import selectors as outage_selectors
from reliability import frequency, indices
from reliability.models import DailyReliability, FrequentOutageAlert, FrequentOutagePolicy

CUSTOMER_SIDE_CAUSES = frozenset({"customer_equipment"})
SINGLE_PREMISE_TYPES = frozenset({"fault_single_premise"})
# A chain that began before the period start can absorb records after it; read this far back.
LOOKBACK = timedelta(days=3)


def policy_get() -> FrequentOutagePolicy:
    """The active policy, or an unsaved one with the defaults when none is stored."""
    return FrequentOutagePolicy.objects.filter(is_active=True).first() or FrequentOutagePolicy(
        warning_recent=[[50, 3], [30, 2]]
    )


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def record_from_row(row: Mapping[str, Any]) -> frequency.Record:
    """A frequency record from a row of ``outages.selectors.interruptions_for_reliability``."""
    return _record(
        row["started_at"],
        row["ended_at"],
        row["outage_id"],
        category=row["outage__type__category__code"],
        type_code=row["outage__type__code"],
        cause=row["outage__cause__code"],
        premise=row["outage__service_point_id"],
    )


def _record(
    start: datetime,
    end: datetime | None,
    outage_id: int,
    *,
    category: str,
    type_code: str,
    cause: str | None,
    premise: int | None,
) -> frequency.Record:
    """A frequency record from an interruption and what its outage says of it."""
    return frequency.Record(
        start=start,
        end=end,
        planned=category == "planned",
        customer_side=cause in CUSTOMER_SIDE_CAUSES,
        single_premise=premise is not None or type_code in SINGLE_PREMISE_TYPES,
        ref=outage_id,
    )


def major_event_days(*, since: date, until: date) -> frozenset[date]:
    """Days flagged major-event days by the stored daily figures (2.5-beta)."""
    return frozenset(
        DailyReliability.objects.filter(
            scope=DailyReliability.Scope.CITY,
            split=DailyReliability.Split.ALL,
            major_event_day=True,
            day__gte=since,
            day__lte=until,
        ).values_list("day", flat=True)
    )


def customer_records(
    *, service_point_ids: Any, since: date, until: date
) -> Iterator[tuple[int, list[frequency.Record]]]:
    """Each customer's records that count (types counted in reliability), one customer at a
    time; ``service_point_ids`` is a list or a values queryset."""
    rows = outage_selectors.interruptions_for_reliability(
        started_from=local_midnight(since) - LOOKBACK,
        started_before=local_midnight(until + timedelta(days=1)),
        service_point_ids=service_point_ids,
    ).iterator(chunk_size=5000)
    current: int | None = None
    bucket: list[frequency.Record] = []
    for row in rows:
        if not row["outage__type__counts_in_reliability"]:
            continue
        sp = row["service_point_id"]
        if sp != current:
            if current is not None:
                yield current, bucket
            current, bucket = sp, []
        bucket.append(record_from_row(row))
    if current is not None:
        yield current, bucket


def customers_assess(
    *,
    service_point_ids: Iterable[int],
    as_of: date | None = None,
    policy: frequency.Policy | None = None,
    extra: Mapping[int, list[frequency.Record]] | None = None,
    now: datetime | None = None,
) -> dict[int, frequency.Result]:
    """The level of each customer on ``as_of`` (default today); customers with no record are
    normal. ``extra`` adds hypothetical records (the planned-outage preview)."""
    as_of = as_of or timezone.localdate()
    policy = policy or policy_get().as_policy()
    since = policy.period_start(as_of)
    meds = (
        major_event_days(since=since, until=as_of)
        if policy.exclude_major_event_days
        else frozenset()
    )
    ids = list(service_point_ids)
    found = dict(customer_records(service_point_ids=ids, since=since, until=as_of))
    for sp, recs in (extra or {}).items():
        found.setdefault(sp, []).extend(recs)
    # Customers of one transformer usually share their whole history (outages are switched
    # on devices): assess each distinct history once.
    memo: dict[tuple[Any, ...], frequency.Result] = {}
    out: dict[int, frequency.Result] = {}
    for sp in ids:
        recs = found.get(sp, [])
        key = tuple((r.start, r.end, r.planned, r.customer_side, r.single_premise) for r in recs)
        result = memo.get(key)
        if result is None:
            result = memo[key] = frequency.assess(
                recs, as_of=as_of, policy=policy, major_event_days=meds, now=now
            )
        out[sp] = result
    return out


def scan_candidate_ids(*, as_of: date, policy: frequency.Policy) -> list[int]:
    """Customers a full scan must assess: enough sustained records in the period to reach a
    status, or an open alert to close. Everyone else is normal without looking (every
    customer is a candidate under a policy that may warn one with no interruption)."""
    args = _prefilter(as_of=as_of, policy=policy)
    if args is None:
        return grid_reference.service_point_ids()
    enough = outage_selectors.interruption_service_point_ids_with_at_least(
        started_from=args.pop("count_from"), **args
    )
    ids = set(enough.values_list("service_point_id", flat=True))
    ids.update(
        FrequentOutageAlert.objects.filter(status=FrequentOutageAlert.Status.OPEN).values_list(
            "service_point_id", flat=True
        )
    )
    return sorted(ids)


def _prefilter(*, as_of: date, policy: frequency.Policy) -> dict[str, Any] | None:
    """The raw-count prefilter's arguments (see ``frequency.Policy.candidate_thresholds``),
    or None when the policy allows none."""
    since = policy.period_start(as_of)
    thresholds = policy.candidate_thresholds()
    if thresholds is None:
        return None
    period_min, recent = thresholds
    return {
        "count_from": local_midnight(since),
        "started_before": local_midnight(as_of + timedelta(days=1)),
        "longer_than": policy.momentary_max,
        "count": period_min,
        "recent": tuple(
            (local_midnight(max(since, as_of - timedelta(days=d - 1))), n) for d, n in recent
        ),
    }


def scan_results(
    *, as_of: date, policy: frequency.Policy
) -> Iterator[tuple[frequency.Result, list[int]]]:
    """The full scan's assessment: each candidate customer's level on ``as_of``, as
    ``(result, service point ids)``, one pair per distinct history.

    The same customers and the same results as ``customers_assess`` over
    ``scan_candidate_ids`` (less the open alerts, which the caller reads itself), with the
    counting of ``frequency.assess``; only the reading differs: one query returns
    each distinct history once with the customers who share it (see
    ``outages.selectors.interruption_histories``), and each is assessed once. Customers left
    out are normal (the prefilter's bound); a policy that allows no prefilter is refused
    (``ValueError``: the caller assesses every customer instead)."""
    args = _prefilter(as_of=as_of, policy=policy)
    if args is None:
        raise ValueError("this policy may warn customers without interruptions")
    meds = (
        major_event_days(since=policy.period_start(as_of), until=as_of)
        if policy.exclude_major_event_days
        else frozenset()
    )
    histories = list(
        outage_selectors.interruption_histories(read_from=args["count_from"] - LOOKBACK, **args)
    )
    attributes = outage_selectors.outage_reliability_attributes(
        outage_ids={o for outages, *_rest in histories for o in outages}
    )
    for outages, starts, ends, sp_ids in histories:
        records = []
        for outage_id, start, end in zip(outages, starts, ends, strict=True):
            category, type_code, counts, cause, premise = attributes[outage_id]
            if counts:
                records.append(
                    _record(
                        start,
                        end,
                        outage_id,
                        category=category,
                        type_code=type_code,
                        cause=cause,
                        premise=premise,
                    )
                )
        result = frequency.assess(records, as_of=as_of, policy=policy, major_event_days=meds)
        yield result, sp_ids


# --- alerts --------------------------------------------------------------------------------


def alert_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[FrequentOutageAlert]:
    """Alerts, open and unacknowledged first, then frequent before warning, newest first.
    Filters: ``status`` (open/closed/all, default open), ``level``, ``service_point``."""
    filters = filters or {}
    qs = FrequentOutageAlert.objects.select_related(
        "service_point__transformer__feeder", "service_point__grid", "acknowledged_by"
    )
    status = filters.get("status") or FrequentOutageAlert.Status.OPEN
    if status != "all":
        qs = qs.filter(status=status)
    if level := filters.get("level"):
        qs = qs.filter(level=level)
    if sp := filters.get("service_point"):
        qs = qs.filter(service_point_id=sp)
    return qs.order_by(
        "status",
        F("acknowledged_at").asc(nulls_first=True),
        "level",  # "frequent" sorts before "warning"
        "-first_raised_at",
        "-pk",
    )


def alert_get(*, alert_id: int) -> FrequentOutageAlert:
    from dispatch_center.core.exceptions import NotFound

    alert = alert_list(filters={"status": "all"}).filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"alert {alert_id}")
    return alert


AGGREGATE_FIELDS = {
    "transformer": ("service_point__transformer_id", "service_point__transformer__code"),
    "feeder": ("service_point__transformer__feeder_id", "service_point__transformer__feeder__code"),
    "grid": ("service_point__grid_id", "service_point__grid__name"),
    "district": ("service_point__district_id", "service_point__district__name"),
    "station": ("service_point__grid__station__id", "service_point__grid__station__name"),
}


def alert_aggregates(*, by: str) -> list[dict[str, Any]]:
    """Frequent and warning customers (open alerts) per transformer / feeder / grid /
    district / station, most frequent first; transformers and feeders carry ``flagged`` when
    their frequent customers reach the policy's number (where to send an inspection)."""
    key, label = AGGREGATE_FIELDS[by]
    rows = (
        FrequentOutageAlert.objects.filter(status=FrequentOutageAlert.Status.OPEN)
        .values(key, label)
        .annotate(
            frequent=Count("id", filter=Q(level=frequency.FREQUENT)),
            warning=Count("id", filter=Q(level=frequency.WARNING)),
        )
        .order_by("-frequent", "-warning", key)
    )
    policy = policy_get()
    limit = {"transformer": policy.transformer_flag_frequent, "feeder": policy.feeder_flag_frequent}
    return [
        {
            "id": r[key],
            "name": r[label],
            "frequent": r["frequent"],
            "warning": r["warning"],
            "flagged": by in limit and r["frequent"] >= limit[by],
        }
        for r in rows
    ]


def customer_status(*, service_point_id: int, as_of: date | None = None) -> dict[str, Any]:
    """A caller's frequent-outage status and count this period, for the hotline agent;
    ``NotFound`` for an unknown service point."""
    from dispatch_center.core.exceptions import NotFound

    if not grid_reference.service_point_exists(service_point_id):
        raise NotFound(f"service point {service_point_id}")
    as_of = as_of or timezone.localdate()
    result = customers_assess(service_point_ids=[service_point_id], as_of=as_of)[service_point_id]
    return {
        "service_point": service_point_id,
        "level": result.level,
        "count": result.counts["period"],
        "planned": result.counts["planned"],
        "period_start": result.period_start.isoformat(),
        "as_of": as_of.isoformat(),
        "reasons": result.reason_texts(),
        "counts": result.counts,
    }


# --- indices -------------------------------------------------------------------------------


def open_alert_levels() -> dict[int, str]:
    """Per service point with an open alert, its highest open level ("warning" or
    "frequent"), as the last scan left it: the bulk read of the status (one query)."""
    levels: dict[int, str] = {}
    rows = FrequentOutageAlert.objects.filter(status=FrequentOutageAlert.Status.OPEN)
    for sp_id, level in rows.values_list("service_point_id", "level").order_by():
        if levels.get(sp_id) != FrequentOutageAlert.Level.FREQUENT:
            levels[sp_id] = level
    return levels


def service_point_places(*, ids: Iterable[int] | None = None) -> QuerySet[ServicePoint, Any]:
    """Each service point's district, grid and feeder ids (one row per service point)."""
    qs = ServicePoint.objects.all()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.values("id", "district_id", "grid_id", "transformer__feeder_id")


def customers_served() -> dict[tuple[str, int], int]:
    """Customers per scope: the city (id 0), each district, grid and feeder."""
    out: dict[tuple[str, int], int] = {("city", 0): ServicePoint.objects.count()}
    for scope, field in (
        ("district", "district_id"),
        ("grid", "grid_id"),
        ("feeder", "transformer__feeder_id"),
    ):
        for row in ServicePoint.objects.values(field).annotate(n=Count("id")).order_by():
            if row[field] is not None:
                out[(scope, row[field])] = row["n"]
    return out


def daily_city_saidi(*, since: date, until: date) -> dict[date, float]:
    """The city's daily SAIDI (all interruptions) from the stored figures, zeros included."""
    rows = DailyReliability.objects.filter(
        scope=DailyReliability.Scope.CITY,
        split=DailyReliability.Split.ALL,
        day__gte=since,
        day__lte=until,
    ).values_list("day", "customer_minutes", "customers_served")
    return {d: (cmi / n if n else 0.0) for d, cmi, n in rows}


def reliability_indices(
    *,
    date_from: date,
    date_to: date,
    scope: str = DailyReliability.Scope.CITY,
    split: str = DailyReliability.Split.ALL,
    exclude_major_events: bool = False,
) -> list[dict[str, Any]]:
    """SAIFI, SAIDI, CAIDI, MAIFI and ASAI per scope id over ``[date_from, date_to]``, from
    the stored daily figures: one aggregate query, whatever the length of the period."""
    qs = DailyReliability.objects.filter(
        scope=scope, split=split, day__gte=date_from, day__lte=date_to
    )
    if exclude_major_events:
        qs = qs.filter(major_event_day=False)
    rows = (
        qs.values("scope_id")
        .annotate(
            ci=Sum("customer_interruptions"),
            cmi=Sum("customer_minutes"),
            mi=Sum("momentary_interruptions"),
            served=Max("customers_served"),
            days=Count("id"),
        )
        .order_by("scope_id")
    )
    hours = ((date_to - date_from).days + 1) * 24.0
    out: list[dict[str, Any]] = []
    for r in rows:
        if not r["served"]:
            continue
        totals = indices.Totals(r["ci"] or 0, r["cmi"] or 0.0, r["mi"] or 0)
        figures = indices.from_totals(totals, customers_served=r["served"], period_hours=hours)
        item = {"scope": scope, "id": r["scope_id"], "split": split, "days": r["days"]}
        item.update(figures.as_dict())
        out.append(item)
    return out


def planned_preview(*, outage_id: int, as_of: date | None = None) -> dict[str, Any]:
    """What a planned outage would do to its customers' levels if it went ahead: the
    customers it would push into warning or frequent, by feeder."""
    outage = outage_selectors.outage_for_reliability_preview(outage_id=outage_id)
    start = outage.planned_start_at or outage.started_at or timezone.now()
    end = outage.planned_end_at or (start + timedelta(hours=4))
    as_of = as_of or max(timezone.localdate(), timezone.localdate(start))
    sp_ids = outage_selectors.outage_service_point_ids(outage_id=outage_id)
    policy = policy_get().as_policy()
    planned = outage.type.category.code == "planned"
    hypothetical = {
        sp: [frequency.Record(start=start, end=end, planned=planned, ref=outage_id)]
        for sp in sp_ids
    }
    before = customers_assess(service_point_ids=sp_ids, as_of=as_of, policy=policy)
    after = customers_assess(
        service_point_ids=sp_ids, as_of=as_of, policy=policy, extra=hypothetical
    )
    places: dict[int, dict[str, Any]] = {
        row["id"]: dict(row)
        for row in ServicePoint.objects.filter(pk__in=sp_ids).values(
            "id", "account_no", "address", "transformer__feeder_id", "transformer__feeder__name"
        )
    }
    by_feeder: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {"feeder": None, "name": "", "warning": [], "frequent": []}
    )
    counts = {frequency.WARNING: 0, frequency.FREQUENT: 0}
    for sp in sp_ids:
        old, new = before[sp].level, after[sp].level
        if frequency.LEVEL_RANK[new] <= frequency.LEVEL_RANK[old]:
            continue
        counts[new] += 1
        place: dict[str, Any] = places.get(sp, {})
        group = by_feeder[place.get("transformer__feeder_id")]
        group["feeder"] = place.get("transformer__feeder_id")
        group["name"] = place.get("transformer__feeder__name") or ""
        group[new].append(
            {
                "service_point": sp,
                "account_no": place.get("account_no", ""),
                "address": place.get("address", ""),
                "from": old,
                "to": new,
                "count": after[sp].counts["period"],
                "reasons": after[sp].reason_texts(),
            }
        )
    return {
        "outage": outage_id,
        "customers": len(sp_ids),
        "as_of": as_of.isoformat(),
        "into_warning": counts[frequency.WARNING],
        "into_frequent": counts[frequency.FREQUENT],
        "feeders": sorted(
            by_feeder.values(), key=lambda g: (-len(g["frequent"]), -len(g["warning"]), g["name"])
        ),
    }


def planned_previews(*, limit: int = 20) -> list[dict[str, Any]]:
    """The preview of every planned outage not yet published (status scheduled), soonest
    first, with the outage's description and window."""
    outages = list(
        outage_selectors.outage_list(filters={"status": ["scheduled"]}).order_by(
            "planned_start_at", "pk"
        )[:limit]
    )
    out = []
    for outage in outages:
        preview = planned_preview(outage_id=outage.pk)
        preview.update(
            {
                "description": outage.description,
                "type": outage.type.name,
                "planned_start_at": outage.planned_start_at,
                "planned_end_at": outage.planned_end_at,
            }
        )
        out.append(preview)
    return out


SCOPE_FIELDS = {"district": "district_id", "grid": "grid_id", "feeder": "transformer__feeder_id"}


def reliability_customer_indices(
    *,
    date_from: date,
    date_to: date,
    scope: str = DailyReliability.Scope.CITY,
    scope_id: int = 0,
    split: str = DailyReliability.Split.ALL,
) -> dict[str, Any]:
    """Every index of one scope and period from the customers' own interruptions, CAIFI and
    CEMI-n included (which the additive daily figures cannot give). Reads the period's
    interruption rows of the scope: meant for one scope at a time, not for a whole-city
    dashboard refresh."""
    policy = policy_get()
    sps = ServicePoint.objects.all()
    if scope != DailyReliability.Scope.CITY:
        sps = sps.filter(**{SCOPE_FIELDS[scope]: scope_id})
    served = sps.count()
    rows = outage_selectors.interruptions_for_reliability(
        started_from=local_midnight(date_from),
        started_before=local_midnight(date_to + timedelta(days=1)),
        service_point_ids=None if scope == DailyReliability.Scope.CITY else sps.values("pk"),
    )
    now = timezone.now()
    records = []
    for r in rows.iterator(chunk_size=5000):
        if not r["outage__type__counts_in_reliability"]:
            continue
        planned = r["outage__type__category__code"] == "planned"
        if split != DailyReliability.Split.ALL and planned != (split == "planned"):
            continue
        records.append(
            indices.CustomerInterruption(
                r["service_point_id"], r["started_at"], r["ended_at"] or now, planned
            )
        )
    out: dict[str, Any] = {
        "scope": scope,
        "id": scope_id,
        "split": split,
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
    }
    if not served:
        return {**out, "customers_served": 0}
    figures = indices.from_interruptions(
        records,
        customers_served=served,
        threshold=policy.sustained_threshold,
        period_hours=((date_to - date_from).days + 1) * 24.0,
    )
    return {**out, **figures.as_dict()}
