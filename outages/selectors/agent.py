"""Reads of the hotline agent's page: who is calling, what is happening at their premise.

``agent_caller_search`` finds service points by account number, phone or address
(``grids.selectors.service_point_search``); ``agent_customer_context`` gathers everything the
agent needs about one of them in a bounded number of queries: the premise and its network
(transformer, feeder), the outage that has it out now with its timeline, the repair order's
progress and crew ETA (from the work-orders app through ``outages.providers.work_progress``),
planned outages, earlier reports and calls, and the recently closed orders to call the
customer back about (``outages.providers.return_visits``). ``caller_script`` is the sentence
the agent reads out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.dates import when
from dispatch_center.core.exceptions import NotFound
from dispatch_center.core.i18n import is_english, local_name
from grids.models import ServicePoint
from grids.selectors import service_point_search, service_points_by_customer_name
from outages.models import CallLog, EtrChange, Outage, OutageEvent, TroubleReport
from outages.providers import return_visits, work_progress
from outages.selectors import outage_for_service_point, planned_outages_for_service_point

SEARCH_LIMIT = 10
HISTORY_LIMIT = 10


def _crew_phrase(status: str | None) -> str:
    """What the crew is doing, as the end of "抢修人员已…" / "the repair crew has …"."""
    phrases = {
        "dispatched": _("接到抢修任务"),
        "accepted": _("接到抢修任务"),
        "en_route": _("出发赶往现场"),
        "on_site": _("到达现场抢修"),
        "repairing": _("到达现场抢修"),
        "completed": _("完成抢修，正在恢复送电"),
    }
    return phrases.get(status or "", "")


@dataclass(frozen=True, slots=True)
class CallerHit:
    """One search result on the agent's page."""

    service_point: ServicePoint
    score: float
    outage_id: int | None


def agent_caller_search(*, q: str) -> list[CallerHit]:
    """Service points matching the customer's name, an account number, a phone or an address
    fragment, best first, each with the id of the outage that has it out now (or None).

    A fragment without digits is tried as a name first (exact, then prefix): those hits rank
    above address matches, which follow without repeating them.
    """
    q = (q or "").strip()
    if len(q) < 2:
        return []
    by_name: list[ServicePoint] = []
    if not any(ch.isdigit() for ch in q):
        by_name = service_points_by_customer_name(name=q, limit=SEARCH_LIMIT)
    named = {sp.pk for sp in by_name}
    hits = [
        h for h in service_point_search(q=q, limit=SEARCH_LIMIT) if h.service_point.pk not in named
    ]
    ids = [h.service_point.pk for h in hits[: SEARCH_LIMIT - len(by_name)]]
    loaded = ServicePoint.objects.select_related("district", "transformer").in_bulk(ids)
    found = [(sp, 1.0 if sp.customer_name == q else 0.95) for sp in by_name]
    found += [
        (loaded.get(h.service_point.pk, h.service_point), h.score)
        for h in hits
        if h.service_point.pk in loaded
    ]
    return [
        CallerHit(service_point=sp, score=score, outage_id=_out_in(sp.pk)) for sp, score in found
    ]


def _out_in(service_point_id: int) -> int | None:
    outage = outage_for_service_point(service_point=service_point_id)
    return outage.pk if outage is not None else None


@dataclass
class CustomerContext:
    """What the agent sees about one premise (all relations loaded)."""

    service_point: ServicePoint
    outage: Outage | None
    timeline: list[OutageEvent] = field(default_factory=list)
    etr_changes: list[EtrChange] = field(default_factory=list)
    work: work_progress.OutageWork | None = None
    planned: list[Outage] = field(default_factory=list)
    reports: list[TroubleReport] = field(default_factory=list)
    calls: list[CallLog] = field(default_factory=list)
    closed_orders: list[return_visits.ClosedOrder] = field(default_factory=list)
    script: str = ""


def agent_service_point_get(*, service_point_id: int) -> ServicePoint:
    """The premise with its network and organisation loaded; ``NotFound``."""
    sp = (
        ServicePoint.objects.select_related(
            "district", "sub_district", "grid", "transformer__feeder__substation"
        )
        .filter(pk=service_point_id)
        .first()
    )
    if sp is None:
        raise NotFound(_("用电户 %(id)s 不存在。") % {"id": service_point_id})
    return sp


def agent_customer_context(*, service_point_id: int) -> CustomerContext:
    """Everything about one premise for the agent (see the module docstring); ``NotFound``."""
    sp = agent_service_point_get(service_point_id=service_point_id)
    found = outage_for_service_point(service_point=sp.pk)
    context = CustomerContext(service_point=sp, outage=None)
    if found is not None:
        outage = (
            Outage.objects.select_related("type__category", "cause", "district", "device")
            .prefetch_related(
                Prefetch(
                    "events",
                    queryset=OutageEvent.objects.select_related("actor").order_by("at", "pk"),
                ),
                Prefetch("etr_changes", queryset=EtrChange.objects.order_by("at", "pk")),
            )
            .get(pk=found.pk)
        )
        context.outage = outage
        context.timeline = list(outage.events.all())
        context.etr_changes = list(outage.etr_changes.all())
        context.work = work_progress.progress_for_outage(outage.pk)
        context.script = caller_script(outage=outage, work=context.work)
    context.planned = list(planned_outages_for_service_point(service_point=sp.pk, days=7))
    context.reports = list(
        # The premise's and its neighbours' at the same address (flats of one building).
        TroubleReport.objects.filter(
            Q(service_point=sp) | Q(service_point__address_norm=sp.address_norm)
        )
        .select_related("outage")
        .order_by("-received_at", "-pk")[:HISTORY_LIMIT]
    )
    context.calls = list(
        CallLog.objects.filter(service_point=sp)
        .select_related("agent", "report")
        .order_by("-at", "-pk")[:HISTORY_LIMIT]
    )
    context.closed_orders = return_visits.closed_orders_for_service_point(sp.pk)
    return context


@dataclass
class AgentOverview:
    """The agent's start page: what is out now (largest first) and their own latest calls."""

    outages: list[Outage]
    outages_total: int
    customers_out: int
    calls: list[CallLog]


def agent_overview(*, agent_id: int, limit: int = 8) -> AgentOverview:
    """Active outages, biggest first (the ``limit`` largest), their totals, and the latest
    calls this agent recorded. Four queries."""
    active = Outage.objects.filter(status__in=Outage.ACTIVE)
    totals = active.aggregate(
        n=Count("pk"), out=Sum(F("customers_affected") - F("customers_restored"))
    )
    return AgentOverview(
        outages=list(
            active.select_related("type__category", "cause", "district").order_by(
                "-customers_affected", "-pk"
            )[:limit]
        ),
        outages_total=totals["n"] or 0,
        customers_out=totals["out"] or 0,
        calls=list(
            CallLog.objects.filter(agent_id=agent_id)
            .select_related("service_point", "report", "outage")
            .order_by("-at", "-pk")[:HISTORY_LIMIT]
        ),
    )


def _when(value: datetime) -> str:
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return _("今天 %(time)s") % {"time": f"{local:%H:%M}"}
    return when(local).replace(" ", "" if not is_english() else " ")


def _name(obj: Any) -> str:
    return local_name(obj)


def _in_sentence(name: str) -> str:
    """A name inside an English sentence: "Cable fault" → "cable fault" (acronyms such as
    "MV feeder" or "10 kV" stay as they are). Chinese is left alone."""
    if not is_english() or len(name) < 2 or not name[0].isupper() or name[1].isupper():
        return name
    return name[0].lower() + name[1:]


def caller_script(*, outage: Outage, work: work_progress.OutageWork | None = None) -> str:
    """The sentence the agent tells a caller whose premise is in ``outage``, e.g.
    "您好，您所在区域因树障停电，抢修人员已到达现场抢修，预计今天 18:30 恢复供电。"

    Cause (or that it is being found, or the planned work), the crew's state when a repair
    order has a crew, and the ETR (or that it is being assessed), in the active language.
    """
    planned = outage.planned_start_at is not None
    if outage.cause is not None:
        head = _("您好，您所在区域因%(cause)s停电") % {"cause": _in_sentence(_name(outage.cause))}
    elif planned:
        head = _("您好，您所在区域因%(work)s停电") % {"work": _in_sentence(_name(outage.type))}
    else:
        head = _("您好，您所在区域发生停电，原因正在查明")
    parts = [head]
    crew = _crew_phrase(work["crew_status"] if work else None)
    if crew:
        parts.append(_("抢修人员已%(status)s") % {"status": crew})
    elif not planned:
        parts.append(_("我们正在安排抢修人员"))
    etr = outage.etr or (outage.planned_end_at if planned else None)
    if etr is not None:
        parts.append(_("预计%(etr)s恢复供电") % {"etr": _when(etr)})
    else:
        parts.append(_("恢复时间正在评估，请您耐心等待"))
    english = is_english()
    return (", " if english else "，").join(str(p) for p in parts) + ("." if english else "。")
