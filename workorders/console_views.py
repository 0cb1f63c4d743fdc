"""The dispatcher console: one live page and the compact JSON feed it polls.

The page (``/console/``) shows active outages, work orders coloured by SLA state and crews on
a Leaflet map beside filterable lists, and the selected order's detail with its timeline and
the dispatch explanation. It is for dispatchers and supervisors: anyone else logged in gets
403, an anonymous visitor is sent to the login page.

The page reads two things:

* ``/console/feed.json`` (here): everything that moves — open orders (filtered), active
  outages, crews, the header counts — in one compact answer, polled every few seconds. Its
  ETag is computed from a handful of aggregate queries *before* the body is built, so an
  unchanged picture costs three cheap queries and a bodiless 304.
* The staff REST API of ``workorders.api`` for an order's detail, the ranked suggestions and
  every action (dispatch, re-dispatch, publish, ETR, confirm, cancel, merge), posted with the
  session's CSRF token. Nothing here writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import cache, wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.db.models import Count, Max, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from dispatch_center.core import roles
from grids.models import Crew, District, Grid
from outages import selectors as outage_selectors
from outages.models import Outage, OutageCategory, Priority
from outages.publishing import districts_geojson
from workorders import selectors
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent

CONSOLE_ROLES = (roles.DISPATCHER, roles.SUPERVISOR)
# The page polls the feed this often (the issue asks for a refresh within 5 seconds).
POLL_SECONDS = getattr(settings, "CONSOLE_POLL_SECONDS", 4)
# At most this many orders travel in one feed (most pressing first); the total is sent along.
FEED_ORDER_LIMIT = getattr(settings, "CONSOLE_FEED_ORDER_LIMIT", 300)
# Status groups offered by the console's status filter (value: the statuses it stands for).
STATUS_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("waiting", (WorkOrder.Status.CREATED, WorkOrder.Status.REJECTED)),
    ("offered", (WorkOrder.Status.DISPATCHED, WorkOrder.Status.CLAIMED)),
    (
        "working",
        (WorkOrder.Status.ACCEPTED, WorkOrder.Status.EN_ROUTE, WorkOrder.Status.ON_SITE),
    ),
    ("pool", (WorkOrder.Status.PUBLISHED,)),
    ("done", (WorkOrder.Status.COMPLETED, WorkOrder.Status.RETURN_VISIT)),
    ("finished", tuple(sorted(WorkOrder.TERMINAL))),
)


# --- access ---------------------------------------------------------------------------------------


def _is_console_user(request: HttpRequest) -> bool:
    return roles.has_role(request.user, *CONSOLE_ROLES)


def console_page_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous: redirect to the login page; logged in without a console role: 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not _is_console_user(request):
            context = {"message": _("只有调度员和值班长可以使用调度台。")}
            return render(request, "workorders/console_forbidden.html", context, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _error(status: int, code: str, message: str, fields: dict[str, Any] | None = None) -> Any:
    # The contract's error shape, as the REST API answers (dispatch_center.core.api).
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def console_json_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like ``console_page_access`` but answers JSON: a poll must not follow a redirect to an
    HTML login page. Anonymous (an expired session): 403 ``not_authenticated``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _error(403, "not_authenticated", _("登录已过期，请重新登录。"))
        if not _is_console_user(request):
            return _error(403, "permission_denied", _("只有调度员和值班长可以使用调度台。"))
        return view(request, *args, **kwargs)

    return wrapped


# --- the page -------------------------------------------------------------------------------------


def _choices(choices: Iterable[tuple[Any, Any]]) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


@cache
def _districts_geojson() -> dict[str, Any]:
    # Reference geography from a module constant (grids.geodata): built once per process.
    return districts_geojson()


def _filter_options() -> dict[str, Any]:
    """Districts and grids for the list filters (reference rows, a few hundred at most)."""
    english = (get_language() or "").startswith("en")
    districts = [
        {"id": pk, "code": code, "name": (name_en or name) if english else name}
        for pk, code, name, name_en in District.objects.order_by("code").values_list(
            "pk", "code", "name", "name_en"
        )
    ]
    grids = [
        {"id": pk, "code": code, "name": name, "district": district_id}
        for pk, code, name, district_id in Grid.objects.order_by("code").values_list(
            "pk", "code", "name", "district_id"
        )
    ]
    return {"districts": districts, "grids": grids}


def _page_config(request: HttpRequest) -> dict[str, Any]:
    """What the console's JS needs, as plain JSON (delivered with ``json_script``)."""
    return {
        "language": get_language(),
        "pollSeconds": POLL_SECONDS,
        "orderLimit": FEED_ORDER_LIMIT,
        "feedUrl": reverse("console-feed"),
        "ordersApi": reverse("work-order-list"),
        "loginUrl": reverse("login") + "?next=" + reverse("console"),
        "csrfToken": get_token(request),
        "statusGroups": {name: list(statuses) for name, statuses in STATUS_GROUPS},
        "labels": {
            "status": _choices(WorkOrder.Status.choices),
            "kind": _choices(WorkOrder.Kind.choices),
            "sla": _choices(WorkOrder.SlaState.choices),
            "priority": _choices(Priority.choices),
            "outageStatus": _choices(Outage.Status.choices),
            "category": _choices(OutageCategory.Code.choices),
            "crewStatus": _choices(Crew.Status.choices),
            "eventKind": _choices(WorkOrderEvent.Kind.choices),
            "decisionMode": _choices(DispatchDecision.Mode.choices),
            "refusal": _choices(DispatchRefusal.Reason.choices),
        },
        **_filter_options(),
    }


@require_safe
@console_page_access
def console(request: HttpRequest) -> HttpResponse:
    """The dispatcher console page; its JS polls ``console_feed`` and acts through the API."""
    context = {
        "config": _page_config(request),
        "districts": _districts_geojson(),
        "status_groups": [(name, statuses) for name, statuses in STATUS_GROUPS],
        "statuses": WorkOrder.Status.choices,
        "kinds": WorkOrder.Kind.choices,
        "sla_states": WorkOrder.SlaState.choices,
        "crew_statuses": Crew.Status.choices,
    }
    return render(request, "workorders/console.html", context)


# --- the feed -------------------------------------------------------------------------------------


class FeedFilterForm(forms.Form):
    """The list filters of the feed; every field optional. No status: every open order."""

    status = forms.MultipleChoiceField(choices=WorkOrder.Status.choices, required=False)
    kind = forms.MultipleChoiceField(choices=WorkOrder.Kind.choices, required=False)
    sla_state = forms.MultipleChoiceField(choices=WorkOrder.SlaState.choices, required=False)
    district = forms.IntegerField(required=False, min_value=1)
    grid = forms.IntegerField(required=False, min_value=1)
    urgent = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)

    def selector_filters(self) -> dict[str, Any]:
        """The cleaned values as ``selectors.work_order_list`` takes them."""
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        if data["status"]:
            filters["status"] = data["status"]
        else:
            filters["open"] = True
        for key in ("kind", "sla_state", "district", "grid", "q"):
            if data[key]:
                filters[key] = data[key]
        if data["urgent"]:
            filters["urgent"] = True
        return filters


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _orders_fingerprint() -> dict[str, Any]:
    """One aggregate over the open orders that changes whenever any of them changes.

    Every status change and edit bumps ``version`` and ``updated_at`` (compare-and-set in the
    services); the SLA marks do not (they must not break a crew's concurrent compare-and-set),
    so their timestamps are part of it. An order leaving the open set changes the count and
    the version sum; one entering it brings a newer ``updated_at``. Terminal orders never
    change again, so a filter on them is covered too.
    """
    qs = selectors.work_order_list(filters={"open": True}).order_by()
    return qs.aggregate(
        n=Count("pk"),
        versions=Sum("version"),
        updated=Max("updated_at"),
        arrive_warned=Max("arrive_warned_at"),
        arrive_breached=Max("arrive_breached_at"),
        restore_warned=Max("restore_warned_at"),
        restore_breached=Max("restore_breached_at"),
    )


def _outages_fingerprint() -> dict[str, Any]:
    """Active outages: every change bumps ``version`` and ``updated_at``; one leaving the
    active set changes the count."""
    qs = outage_selectors.outage_list_active().order_by()
    return qs.aggregate(n=Count("pk"), versions=Sum("version"), updated=Max("updated_at"))


# What the map shows of a crew; the fingerprint reads exactly these columns.
_CREW_COLUMNS = (
    "id",
    "status",
    "on_duty",
    "capacity",
    "last_lat",
    "last_lng",
    "last_located_at",
    "updated_at",
)


def _crews_fingerprint() -> str:
    """A digest of what the map shows of every crew: status, duty, position and its age.

    Crew rows are changed with plain updates (status, position) that carry neither a version
    nor ``updated_at``, so no aggregate can be trusted to move; every crew's narrow columns
    are digested instead. On PostgreSQL the database does it (one short row comes back; a
    thousand crews take a few milliseconds), elsewhere Python does. Open-order counts follow
    the orders, which ``_orders_fingerprint`` covers; names and stations are edited with
    ``save()``, which moves ``updated_at``.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Crew._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(c) for c in _CREW_COLUMNS)
        # Identifiers only (the model's table and fixed column names), no user input.
        sql = (
            f"SELECT md5(string_agg(concat_ws('|', {columns}), ',' ORDER BY id)) "  # noqa: S608
            f"FROM {table}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return str(cursor.fetchone()[0])
    digest = hashlib.sha256()
    rows = Crew.objects.order_by("pk").values_list(*_CREW_COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        digest.update(repr(row).encode())
    return digest.hexdigest()


def _crew_rows() -> list[dict[str, Any]]:
    """Every crew with its status, load and last position (the map's crew layer); plain
    values of the crew-board selector, no model instances (a thousand crews in a city)."""
    rows = selectors.crew_board().values(
        "pk",
        "code",
        "name",
        "status",
        "on_duty",
        "capacity",
        "open_orders",
        "station__name",
        "station__grid_id",
        "last_lat",
        "last_lng",
        "last_located_at",
    )
    return [
        {
            "id": c["pk"],
            "code": c["code"],
            "name": c["name"],
            "status": c["status"],
            "on_duty": c["on_duty"],
            "capacity": c["capacity"],
            "open_orders": c["open_orders"],
            "station": c["station__name"],
            "grid_id": c["station__grid_id"],
            "lat": c["last_lat"],
            "lng": c["last_lng"],
            "located_at": _iso(c["last_located_at"]),
        }
        for c in rows
    ]


def _etag(request: HttpRequest, parts: dict[str, Any]) -> str:
    blob = json.dumps(
        {
            "lang": get_language(),
            "query": sorted(request.GET.lists()),
            "limit": FEED_ORDER_LIMIT,
            **parts,
        },
        sort_keys=True,
        default=str,
    ).encode()
    return '"' + hashlib.sha256(blob).hexdigest()[:32] + '"'


def _order_row(order: WorkOrder) -> dict[str, Any]:
    """An order as the console's list and map need it (labels come from the page config)."""
    return {
        "id": order.pk,
        "kind": order.kind,
        "status": order.status,
        "priority": order.priority,
        "urgent": order.is_urgent,
        "title": order.title,
        "address": order.address,
        "lat": order.lat,
        "lng": order.lng,
        "grid_id": order.grid_id,
        "grid": order.grid.name if order.grid is not None else None,
        "district_id": order.district_id,
        "crew_id": order.crew_id,
        "crew": order.crew.name if order.crew is not None else None,
        "outage_id": order.outage_id,
        "outage_status": order.outage.status if order.outage is not None else None,
        "sla_state": order.sla_state,
        "arrive_due_at": _iso(order.arrive_due_at),
        "restore_due_at": _iso(order.restore_due_at),
        "arrived_at": _iso(order.arrived_at),
        "created_at": _iso(order.created_at),
        "waiting_since": _iso(order.waiting_since),
        "version": order.version,
    }


def _bbox_centre(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The middle of a GeoJSON geometry's bounding box (lat, lng), or None."""
    if not geometry:
        return None
    xs: list[float] = []
    ys: list[float] = []

    def walk(value: Any) -> None:
        if value and isinstance(value[0], int | float):
            xs.append(float(value[0]))
            ys.append(float(value[1]))
        else:
            for item in value:
                walk(item)

    walk(geometry.get("coordinates") or [])
    if not xs:
        return None
    return (min(ys) + max(ys)) / 2, (min(xs) + max(xs)) / 2


def _outage_rows() -> list[dict[str, Any]]:
    """Active outages with their area, a label point and their live repair order."""
    outages = list(outage_selectors.outage_list_active())
    english = (get_language() or "").startswith("en")
    repair_orders = {
        o.outage_id: o
        for o in selectors.work_order_list(
            filters={"open": True, "kind": [WorkOrder.Kind.OUTAGE_REPAIR]}
        )
        .filter(outage_id__in=[o.pk for o in outages])
        .select_related(None)
        .only("pk", "outage_id", "lat", "lng", "status", "crew_id")
    }
    rows = []
    for outage in outages:
        order = repair_orders.get(outage.pk)
        point = None
        if outage.device.lat is not None and outage.device.lng is not None:
            point = (outage.device.lat, outage.device.lng)
        point = point or _bbox_centre(outage.area)
        if point is None and order is not None and order.lat is not None:
            point = (order.lat, order.lng)
        kind = outage.type
        rows.append(
            {
                "id": outage.pk,
                "status": outage.status,
                "category": kind.category.code,
                "type": (kind.name_en or kind.name) if english else kind.name,
                "cause": (
                    ((outage.cause.name_en or outage.cause.name) if english else outage.cause.name)
                    if outage.cause is not None
                    else None
                ),
                "device": outage.device.code,
                "customers_affected": outage.customers_affected,
                "customers_out": outage.customers_out,
                "started_at": _iso(outage.started_at),
                "etr": _iso(outage.etr),
                "district_id": outage.district_id,
                "grid_id": outage.grid_id,
                "lat": point[0] if point else None,
                "lng": point[1] if point else None,
                "area": outage.area,
                "order_id": order.pk if order is not None else None,
                "version": outage.version,
            }
        )
    return rows


@require_safe
@console_json_access
def console_feed(request: HttpRequest) -> HttpResponse:
    """Everything that moves on the console, in one compact answer.

    ``?status=…&kind=…&sla_state=…&district=…&grid=…&urgent=1&q=…`` filter the orders (no
    status: every open order); outages (active) and crews (all) are never filtered. Send the
    last ``ETag`` in ``If-None-Match``: an unchanged picture answers 304 after three small
    queries, before any row is serialised.
    """
    form = FeedFilterForm(request.GET)
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return _error(400, "invalid", _("筛选条件无效。"), fields)

    etag = _etag(
        request,
        {
            "orders": _orders_fingerprint(),
            "outages": _outages_fingerprint(),
            "crews": _crews_fingerprint(),
        },
    )
    # Weak comparison (RFC 9110 §13.1.2): a gzipping proxy (deploy/nginx.conf) hands the
    # browser W/"…" for our strong tag, and the browser sends that back.
    offered = {
        tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))
    }
    if etag in offered:
        response: HttpResponse = HttpResponseNotModified()
    else:
        orders = selectors.work_order_list(filters=form.selector_filters())
        total = orders.count()
        body = {
            "version": etag.strip('"'),
            "generated_at": _iso(timezone.now()),
            "counts": selectors.work_order_counts_by_status(),
            "orders": {
                "total": total,
                "limit": FEED_ORDER_LIMIT,
                "items": [_order_row(o) for o in orders[:FEED_ORDER_LIMIT]],
            },
            "outages": _outage_rows(),
            "crews": _crew_rows(),
        }
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    # Staff data: never in a shared cache; the browser must revalidate every time.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response
