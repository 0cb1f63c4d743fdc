"""The dispatcher console: one live page and the compact JSON feed it polls.

The page (``/console/``) shows active outages, work orders coloured by SLA state and crews on
a Leaflet map beside filterable lists, and the selected order's detail with its timeline and
the dispatch explanation. It is for dispatchers and supervisors: anyone else logged in gets
403, an anonymous visitor is sent to the login page.

The page reads two things:

* ``/console/feed.json`` (here): everything that moves — open orders (filtered), active
  outages, crews, the header counts — in one compact answer, polled every few seconds. Its
  ETag is computed from a handful of aggregate queries *before* the body is built, so an
  unchanged picture costs three cheap queries and a bodiless 304. Its reads are in
  ``workorders.selectors.console``.
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
from dispatch_center.core.dates import iso
from dispatch_center.core.i18n import pick_name
from grids.models import Crew
from outages.models import Outage, OutageCategory, Priority
from outages.publicmap.publishing import districts_geojson
from outages.selectors import taxonomy
from workorders import selectors
from workorders.labels import console_choices
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent
from workorders.selectors import crews_fingerprint as _crews_fingerprint

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
    return dict(console_choices(choices))


@cache
def _districts_geojson() -> dict[str, Any]:
    # Reference geography from a module constant (grids.geodata): built once per process.
    return districts_geojson()


def _outage_types() -> list[dict[str, str]]:
    """The active outage types for the console's outage dialogs, named in the language."""
    return [
        {"code": t.code, "name": pick_name(t.name, t.name_en), "category": t.category.code}
        for t in taxonomy.outage_types_active()
    ]


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
        "api": {
            "place": reverse("work-order-list") + "/{id}/place",
            "outages": reverse("outage-list"),
            "declare": reverse("outage-declare"),
            "devicesNear": reverse("outage-devices-near"),
            "plannedCreate": reverse("outage-planned-create"),
            "plannedPreview": reverse("outage-planned-preview"),
            "servicePointSearch": reverse("service-point-search"),
        },
        "outageTypes": _outage_types(),
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
        **selectors.console_filter_options(),
    }


@require_safe
@console_page_access
def console(request: HttpRequest) -> HttpResponse:
    """The dispatcher console page; its JS polls ``console_feed`` and acts through the API."""
    context = {
        "config": _page_config(request),
        "districts": _districts_geojson(),
        "status_groups": [(name, statuses) for name, statuses in STATUS_GROUPS],
        "statuses": console_choices(WorkOrder.Status.choices),
        "kinds": console_choices(WorkOrder.Kind.choices),
        "sla_states": console_choices(WorkOrder.SlaState.choices),
        "crew_statuses": console_choices(Crew.Status.choices),
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
        "arrive_due_at": iso(order.arrive_due_at),
        "restore_due_at": iso(order.restore_due_at),
        "arrived_at": iso(order.arrived_at),
        "created_at": iso(order.created_at),
        "waiting_since": iso(order.waiting_since),
        "version": order.version,
    }


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
            "orders": selectors.work_orders_fingerprint(),
            "outages": selectors.outages_fingerprint(),
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
            "generated_at": iso(timezone.now()),
            "counts": selectors.work_order_counts_by_status(),
            "orders": {
                "total": total,
                "limit": FEED_ORDER_LIMIT,
                "items": [_order_row(o) for o in orders[:FEED_ORDER_LIMIT]],
            },
            "outages": selectors.console_outage_rows(),
            "crews": selectors.console_crew_rows(),
        }
        response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["ETag"] = etag
    # Staff data: never in a shared cache; the browser must revalidate every time.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response
