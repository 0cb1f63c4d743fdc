"""Reads of the outages app. Each returns rows with their relations already loaded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import NotFound
from grids.models import District, ServicePoint
from outages.models import EtrChange, Interruption, Outage, OutageEvent

_LIST_RELATED = ("type__category", "device", "cause", "district", "grid")


def outage_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Outage]:
    """Outages, newest first, filtered by any of: ``status`` (list), ``category`` / ``type``
    (codes), ``district`` / ``grid`` (ids), ``active`` (bool: customers out now or not),
    ``source``, ``updated_since`` (datetime)."""
    filters = filters or {}
    qs = Outage.objects.select_related(*_LIST_RELATED).order_by("-created_at", "-pk")
    if statuses := filters.get("status"):
        qs = qs.filter(status__in=list(statuses))
    if category := filters.get("category"):
        qs = qs.filter(type__category__code=category)
    if type_code := filters.get("type"):
        qs = qs.filter(type__code=type_code)
    if district := filters.get("district"):
        qs = qs.filter(district_id=district)
    if grid := filters.get("grid"):
        qs = qs.filter(grid_id=grid)
    if source := filters.get("source"):
        qs = qs.filter(source=source)
    if (active := filters.get("active")) is not None:
        qs = qs.filter(status__in=Outage.ACTIVE) if active else qs.exclude(status__in=Outage.ACTIVE)
    if since := filters.get("updated_since"):
        qs = qs.filter(updated_at__gte=since)
    return qs


def outage_list_active() -> QuerySet[Outage]:
    """Outages with customers out right now, biggest first."""
    return (
        Outage.objects.filter(status__in=Outage.ACTIVE)
        .select_related(*_LIST_RELATED)
        .order_by("-customers_affected", "-pk")
    )


def outage_get(*, outage_id: int) -> Outage:
    """One outage with its type and category, for a write; ``NotFound``."""
    outage = Outage.objects.select_related("type__category").filter(pk=outage_id).first()
    if outage is None:
        raise NotFound(_("停电事件 %(id)s 不存在。") % {"id": outage_id})
    return outage


def outage_get_detail(*, outage_id: int) -> Outage:
    """One outage with its timeline, ETR history, devices and children; ``NotFound``."""
    outage = (
        Outage.objects.select_related(*_LIST_RELATED, "service_point", "parent", "created_by")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=OutageEvent.objects.select_related("actor").order_by("at", "pk"),
            ),
            Prefetch("etr_changes", queryset=EtrChange.objects.order_by("at", "pk")),
            "extra_devices",
            Prefetch(
                "children", queryset=Outage.objects.order_by("pk").only("pk", "status", "parent")
            ),
        )
        .filter(pk=outage_id)
        .first()
    )
    if outage is None:
        raise NotFound(_("停电事件 %(id)s 不存在。") % {"id": outage_id})
    return outage


def outage_for_service_point(*, service_point: ServicePoint | int) -> Outage | None:
    """The active outage that has ``service_point`` out now, innermost nested first.

    Across independent overlapping outages the one that cut the customer off first wins
    (its row is the counted one).
    """
    sp_id = service_point if isinstance(service_point, int) else service_point.pk
    row = (
        Interruption.objects.filter(
            service_point_id=sp_id,
            started_at__isnull=False,
            ended_at__isnull=True,
            outage__status__in=Outage.ACTIVE,
        )
        .order_by(
            "-outage__depth", F("already_out_in_id").asc(nulls_first=True), "started_at", "pk"
        )
        .values_list("outage_id", flat=True)
        .first()
    )
    if row is None:
        return None
    return Outage.objects.select_related(*_LIST_RELATED).get(pk=row)


def planned_outages_for_service_point(
    *,
    service_point: ServicePoint | int,
    days: int = 7,
    now: datetime | None = None,
    published_only: bool = False,
) -> QuerySet[Outage]:
    """Planned outages that will interrupt (or are interrupting) ``service_point`` within the
    next ``days`` days, soonest first. ``published_only``: only those whose notice is out
    (what the public may see)."""
    sp_id = service_point if isinstance(service_point, int) else service_point.pk
    now = now or timezone.now()
    statuses = [Outage.Status.NOTIFIED, Outage.Status.IN_PROGRESS, Outage.Status.PARTIALLY_RESTORED]
    if not published_only:
        statuses.append(Outage.Status.SCHEDULED)
    return (
        Outage.objects.filter(
            planned_start_at__isnull=False,
            planned_start_at__lte=now + timedelta(days=days),
            planned_end_at__gte=now,
            status__in=statuses,
            interruptions__service_point_id=sp_id,
        )
        .select_related(*_LIST_RELATED)
        .order_by("planned_start_at", "pk")
    )


def planned_outage_notices(
    *,
    days: int = 7,
    district_id: int | None = None,
    now: datetime | None = None,
    published_only: bool = False,
) -> QuerySet[Outage]:
    """Planned outages starting within ``days`` days or under way, soonest first."""
    now = now or timezone.now()
    statuses = [Outage.Status.NOTIFIED, Outage.Status.IN_PROGRESS, Outage.Status.PARTIALLY_RESTORED]
    if not published_only:
        statuses.append(Outage.Status.SCHEDULED)
    qs = Outage.objects.filter(
        planned_start_at__isnull=False,
        planned_start_at__lte=now + timedelta(days=days),
        planned_end_at__gte=now,
        status__in=statuses,
    )
    if district_id:
        qs = qs.filter(district_id=district_id)
    return qs.select_related(*_LIST_RELATED).order_by("planned_start_at", "pk")


def outage_counts_by_district() -> list[dict[str, Any]]:
    """Per district: active outages and customers out now, each customer counted once even
    when overlapping outages cover them. Districts with nothing out are included (zeros)."""
    outages = dict(
        Outage.objects.filter(status__in=Outage.ACTIVE)
        .values_list("district_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    customers = dict(
        Interruption.objects.filter(
            started_at__isnull=False, ended_at__isnull=True, outage__status__in=Outage.ACTIVE
        )
        .values_list("service_point__district_id")
        .annotate(n=Count("service_point_id", distinct=True))
        .order_by()
    )
    rows = [
        {
            "district_id": d.pk,
            "district_code": d.code,
            "district_name": d.name,
            "outages": outages.get(d.pk, 0),
            "customers_out": customers.get(d.pk, 0),
        }
        for d in District.objects.order_by("code")
    ]
    if outages.get(None) or customers.get(None):
        rows.append(
            {
                "district_id": None,
                "district_code": "",
                "district_name": _("未知"),
                "outages": outages.get(None, 0),
                "customers_out": customers.get(None, 0),
            }
        )
    return rows


def planned_outage_ids_due_to_start(*, now: datetime | None = None) -> list[int]:
    """Ids of scheduled / notified planned outages whose planned start has come."""
    now = now or timezone.now()
    return list(
        Outage.objects.filter(status__in=Outage.NOT_STARTED, planned_start_at__lte=now)
        .order_by("planned_start_at", "pk")
        .values_list("pk", flat=True)
    )


def planned_outage_ids_due_to_end(*, now: datetime | None = None) -> list[int]:
    """Ids of planned outages under way whose planned end has come."""
    now = now or timezone.now()
    return list(
        Outage.objects.filter(
            Q(status=Outage.Status.IN_PROGRESS)
            | Q(status=Outage.Status.PARTIALLY_RESTORED, source=Outage.Source.PLANNED),
            planned_end_at__isnull=False,
            planned_end_at__lte=now,
        )
        .order_by("planned_end_at", "pk")
        .values_list("pk", flat=True)
    )


# --- for raising work orders (read by ``workorders.services.raising``) ----------------------
# Imports stay inside these functions so the group can move as one block.


def outage_customers_centre(*, outage_id: int) -> tuple[float | None, float | None]:
    """The middle (mean latitude, longitude) of the outage's interrupted customers, or
    (None, None) when it has none located."""
    from django.db.models import Avg

    avg = Interruption.objects.filter(outage_id=outage_id).aggregate(
        lat=Avg("service_point__lat"), lng=Avg("service_point__lng")
    )
    return avg["lat"], avg["lng"]


def outage_first_report_at(*, outage_id: int) -> datetime | None:
    """When the first trouble call of the outage came in (None without calls)."""
    from django.db.models import Min

    from outages.models import TroubleReport

    first = TroubleReport.objects.filter(outage_id=outage_id).aggregate(at=Min("received_at"))
    return first["at"]


def outage_type_default_priority(*, code: str) -> int | None:
    """The default priority of the outage type ``code`` (None when there is no such type)."""
    from outages.models import OutageType

    return OutageType.objects.filter(code=code).values_list("default_priority", flat=True).first()


# --- Reads for the reliability app (frequent outages and indices) ---------------------------

RELIABILITY_INTERRUPTION_FIELDS = (
    "service_point_id",
    "started_at",
    "ended_at",
    "outage_id",
    "outage__type__category__code",
    "outage__type__code",
    "outage__type__counts_in_reliability",
    "outage__cause__code",
    "outage__service_point_id",
)


def interruptions_for_reliability(
    *,
    started_from: datetime,
    started_before: datetime,
    service_point_ids: Any = None,
) -> QuerySet[Interruption, dict[str, Any]]:
    """Started interruptions in ``[started_from, started_before)`` as plain dicts (the fields
    of ``RELIABILITY_INTERRUPTION_FIELDS``), for the reliability engines; optionally only
    those of ``service_point_ids`` (a list or a values queryset). Ordered by service point
    and start, so a caller can stream them one customer at a time."""
    qs = Interruption.objects.filter(
        started_at__isnull=False, started_at__gte=started_from, started_at__lt=started_before
    )
    if service_point_ids is not None:
        qs = qs.filter(service_point_id__in=service_point_ids)
    return qs.order_by("service_point_id", "started_at").values(*RELIABILITY_INTERRUPTION_FIELDS)


def interruption_service_point_ids_with_at_least(
    *,
    started_from: datetime,
    started_before: datetime,
    longer_than: timedelta,
    count: int,
    recent: tuple[tuple[datetime, int], ...] = (),
) -> QuerySet[Any, Any]:
    """Service points with ``count`` or more started interruptions in the window lasting more
    than ``longer_than`` (still-open ones included), or, for any ``(since, n)`` of ``recent``,
    ``n`` or more of them started since ``since``: a values queryset of ``service_point_id``
    (one GROUP BY), usable as a subquery."""
    qs = (
        Interruption.objects.filter(started_at__gte=started_from, started_at__lt=started_before)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + longer_than))
        .values("service_point_id")
        .annotate(
            n=Count("id"),
            **{
                f"r{i}": Count("id", filter=Q(started_at__gte=since))
                for i, (since, _n) in enumerate(recent)
            },
        )
    )
    having = Q(n__gte=count)
    for i, (_since, n) in enumerate(recent):
        having |= Q(**{f"r{i}__gte": n})
    return qs.filter(having).values("service_point_id")


def outage_service_point_ids(*, outage_id: int, ended_only: bool = False) -> list[int]:
    """The service points of an outage's interruptions (only those restored, if asked)."""
    qs = Interruption.objects.filter(outage_id=outage_id)
    if ended_only:
        qs = qs.filter(ended_at__isnull=False)
    return list(qs.values_list("service_point_id", flat=True).distinct())


def outage_for_reliability_preview(*, outage_id: int) -> Outage:
    """A (planned) outage with its category, for the frequent-outage preview; ``NotFound``."""
    return outage_get(outage_id=outage_id)


# --- Reads for the complaints app (complaint links, trace facts, customer features) --------


def complaint_outage_ids_for_service_point(*, service_point_id: int, since: datetime) -> list[int]:
    """Ids of outages that interrupted ``service_point_id`` since ``since`` (or still do)."""
    return list(
        Interruption.objects.filter(service_point_id=service_point_id, started_at__isnull=False)
        .filter(Q(started_at__gte=since) | Q(ended_at__isnull=True) | Q(ended_at__gte=since))
        .order_by("outage_id")
        .values_list("outage_id", flat=True)
        .distinct()
    )


def complaint_report_ids_for_service_point(*, service_point_id: int, since: datetime) -> list[int]:
    """Ids of trouble reports resolved to ``service_point_id`` received since ``since``."""
    from outages.models import TroubleReport

    return list(
        TroubleReport.objects.filter(service_point_id=service_point_id, received_at__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def complaint_outage_trace_facts(
    *, outage_ids: list[int], service_point_id: int | None
) -> list[dict[str, Any]]:
    """Per outage: start, restoration, every ETR announced (``(at, etr)``, from the ETR
    history, or the current ETR when there is no history) and the customer's own
    interruption."""
    outages = Outage.objects.filter(pk__in=outage_ids).prefetch_related(
        Prefetch("etr_changes", queryset=EtrChange.objects.order_by("at", "pk"))
    )
    own: dict[int, tuple[datetime | None, datetime | None]] = {}
    if service_point_id is not None:
        for oid, start, end in Interruption.objects.filter(
            outage_id__in=outage_ids, service_point_id=service_point_id
        ).values_list("outage_id", "started_at", "ended_at"):
            own[oid] = (start, end)
    rows = []
    for o in outages.order_by("pk"):
        etrs = [(c.at, c.new_etr) for c in o.etr_changes.all() if c.new_etr is not None]
        if not etrs and o.etr is not None:
            etrs = [(o.updated_at if o.updated_at <= o.etr else o.etr, o.etr)]
        start, end = own.get(o.pk, (None, None))
        rows.append(
            {
                "outage_id": o.pk,
                "started_at": o.started_at,
                "restored_at": o.restored_at,
                "etrs": etrs,
                "customer_started_at": start,
                "customer_ended_at": end,
            }
        )
    return rows


def complaint_interruption_features(
    *, since: datetime, year_start: datetime, now: datetime | None = None
) -> dict[int, dict[str, float]]:
    """Per service point with any interruption: sustained interruptions (> 5 min) and minutes
    out since ``since``, the longest one, and sustained interruptions since ``year_start``.
    One aggregate query; service points with none are absent."""
    from django.db.models import DurationField, ExpressionWrapper, Max, Sum
    from django.db.models.functions import Coalesce, Now

    now = now or timezone.now()
    length = ExpressionWrapper(
        Coalesce(F("ended_at"), Now()) - F("started_at"), output_field=DurationField()
    )
    sustained = Q(started_at__isnull=False) & (
        Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + timedelta(minutes=5))
    )
    recent = Q(started_at__gte=since)
    rows = (
        Interruption.objects.filter(sustained, started_at__gte=min(since, year_start))
        .values("service_point_id")
        .annotate(
            n_recent=Count("pk", filter=recent),
            n_year=Count("pk", filter=Q(started_at__gte=year_start)),
            total=Sum(length, filter=recent),
            longest=Max(length, filter=recent),
        )
        .order_by()
    )
    out: dict[int, dict[str, float]] = {}
    for r in rows:
        out[r["service_point_id"]] = {
            "interruptions_90d": float(r["n_recent"]),
            "minutes_90d": (r["total"] or timedelta()).total_seconds() / 60,
            "longest_minutes_90d": (r["longest"] or timedelta()).total_seconds() / 60,
            "interruptions_year": float(r["n_year"]),
        }
    return out


def complaint_sustained_interruptions_since(*, service_point_id: int, since: datetime) -> int:
    """Sustained interruptions (longer than 5 minutes, or still going) since ``since``."""
    return (
        Interruption.objects.filter(service_point_id=service_point_id, started_at__gte=since)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at") + timedelta(minutes=5)))
        .count()
    )


def complaint_report_counts(*, since: datetime) -> dict[int, int]:
    """Per service point: trouble reports received since ``since``."""
    from outages.models import TroubleReport

    return dict(
        TroubleReport.objects.filter(service_point_id__isnull=False, received_at__gte=since)
        .values_list("service_point_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def complaint_report_facts(*, report_ids: list[int]) -> list[dict[str, Any]]:
    """Per report: when it came in and whether it was tied to an outage."""
    from outages.models import TroubleReport

    return [
        {"report_id": pk, "received_at": at, "linked": outage_id is not None}
        for pk, at, outage_id in TroubleReport.objects.filter(pk__in=report_ids)
        .order_by("pk")
        .values_list("pk", "received_at", "outage_id")
    ]
