"""Reads of the complaints app: lists, the detail with its timeline, the similar-customer
index and query, the escalation risk of a customer, the bulletin figures."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import frequent, similarity
from complaints.models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintFlag,
    ComplaintLink,
    ProcessDefect,
    RemedyContact,
    ServiceStep,
)
from dispatch_center.core.exceptions import DomainError, NotFound
from grids.models import AreaClass, ServicePoint
from grids.selectors import reference as grid_reference
from outages import selectors as outage_selectors
from workorders import selectors as work_selectors

_LIST_RELATED = ("category__parent", "service_point", "district", "grid", "handler")


def complaint_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Complaint]:
    """Complaints, newest first; filters: ``status`` (list), ``open`` (bool), ``risk``,
    ``category`` (code, a top category includes its sub-categories), ``q`` (reference,
    account number or phone), ``overdue`` (bool)."""
    filters = filters or {}
    qs = Complaint.objects.select_related(*_LIST_RELATED).prefetch_related("flags")
    if statuses := filters.get("status"):
        qs = qs.filter(status__in=list(statuses))
    if filters.get("open"):
        qs = qs.filter(status__in=Complaint.OPEN)
    if risk := filters.get("risk"):
        qs = qs.filter(risk=risk)
    if category := filters.get("category"):
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    if q := (filters.get("q") or "").strip():
        qs = qs.filter(Q(reference__icontains=q) | Q(service_point__account_no=q) | Q(phone=q))
    if filters.get("overdue"):
        qs = qs.filter(overdue_q(timezone.now()))
    return qs.order_by("-received_at", "-pk")


def overdue_q(now: datetime) -> Q:
    """Complaints that missed (or are missing) a deadline."""
    return (
        Q(reply_breached_at__isnull=False)
        | Q(contact_breached_at__isnull=False)
        | Q(status__in=Complaint.AWAITING_REPLY, reply_due_at__lt=now)
    )


def complaint_get(*, complaint_id: int) -> Complaint:
    """One complaint for a write; ``NotFound``."""
    c = Complaint.objects.select_related("category__parent").filter(pk=complaint_id).first()
    if c is None:
        raise NotFound(_("投诉 %(id)s 不存在。") % {"id": complaint_id})
    return c


def complaint_get_detail(*, complaint_id: int) -> Complaint:
    """One complaint with its timeline, links, flags, records; ``NotFound``."""
    c = (
        Complaint.objects.select_related(
            *_LIST_RELATED,
            "service_point__transformer",
            "trace",
            "trace__confirmed_by",
            "accountability",
        )
        .prefetch_related(
            Prefetch("events", queryset=ComplaintEvent.objects.select_related("actor")),
            Prefetch(
                "links",
                queryset=ComplaintLink.objects.select_related("outage", "report", "work_order"),
            ),
            "flags",
            Prefetch("remedies", queryset=RemedyContact.objects.select_related("service_point")),
            "defects",
        )
        .filter(pk=complaint_id)
        .first()
    )
    if c is None:
        raise NotFound(_("投诉 %(id)s 不存在。") % {"id": complaint_id})
    return c


def complaint_links_by_kind(complaint: Complaint) -> dict[str, list[int]]:
    """``{"outages": [...], "work_orders": [...], "reports": [...]}`` (ids)."""
    out: dict[str, list[int]] = {"outages": [], "work_orders": [], "reports": []}
    for link in complaint.links.all():
        if link.outage_id:
            out["outages"].append(link.outage_id)
        elif link.work_order_id:
            out["work_orders"].append(link.work_order_id)
        elif link.report_id:
            out["reports"].append(link.report_id)
    return out


def category_list() -> QuerySet[ComplaintCategory]:
    """Active categories, parents before their children."""
    return ComplaintCategory.objects.filter(is_active=True).select_related("parent")


# --- escalation risk of a customer (the console and the agent page) ----------------------


def customer_escalation_risk(*, service_point_id: int) -> dict[str, Any]:
    """What the hotline and the console show before (or without) a complaint: the flags a
    complaint by this customer would raise now, the resulting risk, and open complaints."""
    from complaints.services.intake import REPEAT_WINDOW, risk_of

    sp = grid_reference.service_point_by_id(service_point_id)
    if sp is None:
        raise NotFound(_("用电户不存在。"))
    now = timezone.now()
    since = now - REPEAT_WINDOW
    codes: list[str] = []
    C = ComplaintFlag.Code
    recent = Complaint.objects.filter(service_point=sp, received_at__gte=since)
    if recent.exists():
        codes.append(C.REPEAT)
    outage_ids = outage_selectors.complaint_outage_ids_for_service_point(
        service_point_id=sp.pk, since=since
    )
    if outage_ids and ComplaintLink.objects.filter(outage_id__in=outage_ids).exists():
        codes.append(C.OUTAGE_COMPLAINED)
    if frequent.frequent_level(service_point_id=sp.pk, now=now) == frequent.FREQUENT:
        codes.append(C.FREQUENT_OUTAGE)
    order_ids = work_selectors.complaint_work_order_ids(
        service_point_id=sp.pk, outage_ids=outage_ids, since=since
    )
    if work_selectors.complaint_breached_order_ids(order_ids=order_ids):
        codes.append(C.SLA_BREACH)
    if sp.is_important:
        codes.append(C.IMPORTANT)
    score, risk = risk_of(codes)
    open_complaints = list(
        Complaint.objects.filter(service_point=sp, status__in=Complaint.OPEN)
        .order_by("-received_at")
        .values("id", "reference", "status", "reply_due_at")[:5]
    )
    labels = dict(ComplaintFlag.Code.choices)
    return {
        "service_point": sp.pk,
        "risk": risk,
        "risk_label": str(dict(Complaint.Risk.choices)[risk]),
        "score": score,
        "flags": [{"code": c, "label": str(labels[c])} for c in codes],
        "open_complaints": open_complaints,
    }


def complaints_high_risk_open(*, limit: int = 10) -> QuerySet[Complaint]:
    """Open complaints by escalation risk (highest first), then nearest reply deadline."""
    return (
        Complaint.objects.filter(status__in=Complaint.OPEN)
        .select_related(*_LIST_RELATED)
        .prefetch_related("flags")
        .order_by("-risk_score", "reply_due_at", "pk")[:limit]
    )


def complaint_ids_deadline_due(*, now: datetime | None = None) -> list[int]:
    """Ids of complaints with a warning or breach mark due and not yet set."""
    from complaints.services.deadlines import WARNING_RATIO

    now = now or timezone.now()
    candidates = Complaint.objects.filter(status__in=Complaint.AWAITING_REPLY).filter(
        Q(status=Complaint.Status.REGISTERED, contact_breached_at__isnull=True)
        | Q(reply_breached_at__isnull=True)
    )
    out = []
    for pk, status, received, c_due, r_due, cw, cb, rw, rb in candidates.values_list(
        "pk",
        "status",
        "received_at",
        "contact_due_at",
        "reply_due_at",
        "contact_warned_at",
        "contact_breached_at",
        "reply_warned_at",
        "reply_breached_at",
    ).order_by("pk"):
        due = []
        if status == Complaint.Status.REGISTERED:
            due += [(cw, received + (c_due - received) * WARNING_RATIO), (cb, c_due)]
        due += [(rw, received + (r_due - received) * WARNING_RATIO), (rb, r_due)]
        if any(mark is None and at <= now for mark, at in due):
            out.append(pk)
    return out


# --- similar customers -------------------------------------------------------------------

INDEX_TTL_SECONDS = 300
FEATURE_WINDOW = timedelta(days=90)
COMPLAINT_WINDOW = timedelta(days=365)
_AREA_CODE: dict[str, float] = {AreaClass.URBAN: 0.0, AreaClass.RURAL: 1.0, AreaClass.REMOTE: 2.0}


@dataclass
class CustomerIndex:
    index: similarity.SimilarityIndex
    accounts: list[str]
    complained: np.ndarray  # bool per row: complained within COMPLAINT_WINDOW
    built_at: float


_cache: dict[str, CustomerIndex] = {}
_cache_lock = threading.Lock()


def customer_features(*, now: datetime | None = None) -> tuple[list[int], list[str], np.ndarray]:
    """Ids, account numbers and raw feature rows (``similarity.FEATURES``) of every service
    point, from a handful of aggregate queries."""
    now = now or timezone.now()
    since = now - FEATURE_WINDOW
    rows = list(
        ServicePoint.objects.order_by("pk").values_list(
            "pk", "account_no", "area_class", "is_important"
        )
    )
    intr = outage_selectors.complaint_interruption_features(
        since=since, year_start=frequent.year_start(now), now=now
    )
    reports = outage_selectors.complaint_report_counts(since=since)
    breaches = work_selectors.complaint_sla_breach_counts(since=since)
    complaints = dict(
        Complaint.objects.filter(
            service_point_id__isnull=False, received_at__gte=now - COMPLAINT_WINDOW
        )
        .values_list("service_point_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    levels = frequent.frequent_levels(
        service_point_ids=list(intr),
        year_counts={k: v["interruptions_year"] for k, v in intr.items()},
    )
    ids = [r[0] for r in rows]
    accounts = [r[1] for r in rows]
    raw = np.zeros((len(rows), len(similarity.FEATURES)), dtype=np.float64)
    for n, (pk, _acct, area, important) in enumerate(rows):
        i = intr.get(pk)
        raw[n] = (
            i["interruptions_90d"] if i else 0.0,
            i["minutes_90d"] if i else 0.0,
            float(levels.get(pk, 0)),
            float(max(reports.get(pk, 0) - 1, 0)),
            float(breaches.get(pk, 0)),
            float(complaints.get(pk, 0)),
            _AREA_CODE.get(area, 0.0),
            1.0 if important else 0.0,
            i["longest_minutes_90d"] if i else 0.0,
        )
    return ids, accounts, raw


def customer_index(*, refresh: bool = False) -> CustomerIndex:
    """The similar-customer index, rebuilt at most every ``INDEX_TTL_SECONDS`` per process."""
    with _cache_lock:
        cached = _cache.get("index")
        if cached and not refresh and time.monotonic() - cached.built_at < INDEX_TTL_SECONDS:
            return cached
        ids, accounts, raw = customer_features()
        index = similarity.SimilarityIndex(ids, raw)
        complaints_col = similarity.FEATURES.index("complaints_365d")
        built = CustomerIndex(
            index=index,
            accounts=accounts,
            complained=raw[:, complaints_col] > 0,
            built_at=time.monotonic(),
        )
        _cache["index"] = built
        return built


def customer_index_clear() -> None:
    with _cache_lock:
        _cache.clear()


def complaint_similar_customers(
    *, complaint: Complaint, radius: float, limit: int = 50
) -> list[dict[str, Any]]:
    """Customers within ``radius`` of the complaining customer's standardised vector who have
    not complained in the last year, nearest first. The query vector is the complainant's
    with its own complaint count set to 0 (what it looked like before the complaint): every
    candidate has 0 there, and one complaint is many standard deviations in a city where
    few complain."""
    if complaint.service_point_id is None:
        message = _("该投诉未关联用电户（舆情只有区域），无法查找同类客户。")
        raise DomainError(message, code="invalid", fields={"service_point": [message]})
    built = customer_index(refresh=False)
    row = built.index.row_of(complaint.service_point_id)
    if row is None:
        built = customer_index(refresh=True)
        row = built.index.row_of(complaint.service_point_id)
        if row is None:
            raise NotFound(_("用电户不存在。"))
    raw = built.index.raw[row].copy()
    raw[similarity.FEATURES.index("complaints_365d")] = 0.0
    vector = built.index.standardise(raw[None, :])[0]
    exclude = set(np.flatnonzero(built.complained).tolist()) | {row}
    matches = built.index.within(vector, radius, limit=limit, exclude_rows=exclude)
    return [
        {
            "service_point": int(built.index.ids[m.row]),
            "account_no": built.accounts[m.row],
            "distance": round(m.distance, 6),
            "features": built.index.features_of(m.row),
        }
        for m in matches
    ]


# --- the bulletin (旬报) and the monthly assessment ----------------------------------------


def ten_day_period(day: date) -> tuple[date, date]:
    """The 旬 containing ``day``: the 1st–10th, 11th–20th or 21st–end of month."""
    if day.day <= 10:
        return day.replace(day=1), day.replace(day=10)
    if day.day <= 20:
        return day.replace(day=11), day.replace(day=20)
    nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day.replace(day=21), nxt - timedelta(days=1)


def month_period(day: date) -> tuple[date, date]:
    nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day.replace(day=1), nxt - timedelta(days=1)


def _range(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, datetime.min.time(), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz),
    )


def _counted(qs: QuerySet[Any], field: str) -> list[tuple[str, int]]:
    return [
        (str(k) if k is not None else "", n)
        for k, n in qs.values_list(field).annotate(n=Count("pk")).order_by("-n", field)
    ]


def complaint_bulletin(*, start: date, end: date) -> dict[str, Any]:
    """The bulletin's figures for complaints received from ``start`` to ``end`` (inclusive)."""
    lo, hi = _range(start, end)
    now = timezone.now()
    qs = Complaint.objects.filter(received_at__gte=lo, received_at__lt=hi)
    total = qs.count()
    cat_names = {c.code: c.name for c in ComplaintCategory.objects.all()}
    by_category_raw: dict[str, int] = {}
    for code, parent_code, n in (
        qs.values_list("category__code", "category__parent__code")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        top = parent_code or code
        by_category_raw[top] = by_category_raw.get(top, 0) + n
    by_category = [
        {"code": k, "name": cat_names.get(k, k), "count": v}
        for k, v in sorted(by_category_raw.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    by_district = [
        {"name": k or str(_("未知")), "count": n} for k, n in _counted(qs, "district__name")
    ]
    by_grid = [{"name": k or str(_("未知")), "count": n} for k, n in _counted(qs, "grid__name")]
    step_labels = dict(ServiceStep.choices)
    by_step = [
        {"step": k or "untraced", "name": str(step_labels.get(k, _("未溯源"))), "count": n}
        for k, n in _counted(qs, "trace__step")
    ]
    overdue = qs.filter(overdue_q(now) | Q(replied_at__gt=F("reply_due_at"))).count()
    repeat = qs.filter(flags__code=ComplaintFlag.Code.REPEAT).count()
    closed = qs.filter(status=Complaint.Status.CLOSED).count()
    outcome_labels = dict(RemedyContact.Outcome.choices)
    remedies = [
        {"outcome": k, "name": str(outcome_labels.get(k, k)), "count": n}
        for k, n in _counted(RemedyContact.objects.filter(complaint__in=qs), "outcome")
    ]
    defects_found = ProcessDefect.objects.filter(created_at__gte=lo, created_at__lt=hi)
    improvements = ProcessDefect.objects.filter(done_at__gte=lo, done_at__lt=hi)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "total": total,
        "closed": closed,
        "overdue": overdue,
        "repeat": repeat,
        "by_category": by_category,
        "by_district": by_district,
        "by_grid": by_grid,
        "by_step": by_step,
        "remedy_outcomes": remedies,
        "defects_found": [
            {
                "id": d.pk,
                "step": d.step,
                "description": d.description,
                "owner": d.owner,
                "status": d.status,
            }
            for d in defects_found.order_by("pk")
        ],
        "improvements_done": [
            {"id": d.pk, "step": d.step, "improvement": d.improvement, "owner": d.owner}
            for d in improvements.order_by("pk")
        ],
    }
