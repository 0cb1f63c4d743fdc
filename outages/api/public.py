"""The public API of the integration contract (no login, rate-limited, no personal data).

- ``GET /api/v1/public/lookup?q=&limit=`` — address fragment or account number → matches with
  the active outage at each address and the planned outages of the next 7 days; when no
  customer matches (or ``q`` is a place's exact name), the gazetteer's places (街道, 社区,
  roads, landmarks) with the outages around each. Answers are
  cached as their JSON body per normalised query and language for
  ``PUBLIC_LOOKUP_CACHE_SECONDS``, with the global outages version they were computed at
  (bumped on every ``outage.changed``), so a repeated query is answered from Redis without
  touching the database, and never older than the last outage change. A plain GET reads
  them in the round trip of its rate limit (see ``_lean_lookup_body``).
- ``POST /api/v1/public/reports`` — file a trouble report (``outages.services.intake``).
- ``GET /api/v1/public/reports/{reference}`` — the report's status and its outage's progress.

No answer carries a customer's name, phone or account number: the builders below copy only
the fields they name. Anonymous requests are not CSRF-checked (DRF's session authentication
checks only logged-in users, whose map page sends the token); mini-programs post without a
session. Only staff may choose a channel other than ``web``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.dates import iso
from dispatch_center.core.degraded import cache_breaker
from dispatch_center.core.exceptions import DomainError, NotFound
from dispatch_center.core.i18n import is_english, local_name
from dispatch_center.core.parsers import SafeJSONParser
from dispatch_center.core.redis_client import default_cache_client
from dispatch_center.core.serializers import PrebuiltFieldsMixin
from dispatch_center.core.throttling import PublicRateThrottle, SlidingWindowThrottle
from grids.address import normalize_identifier, parse_address
from grids.models import Place
from grids.selectors import place_named, place_search, service_point_search
from outages import events
from outages.api.staff import ErrorSerializer
from outages.models import Outage, TroubleReport
from outages.providers import public_crew
from outages.selectors import (
    outages_near_point,
)
from outages.selectors.intake import (
    outage_answer_parts,
    outage_public_progress,
    report_get_by_reference,
)
from outages.selectors.lookup import (
    LookupOutage,
    LookupPlanned,
    lookup_outages,
    lookup_planned,
    lookup_points,
    lookup_points_by_id,
)
from outages.services.intake import IntakeResult, ReportInput, report_message, report_submit
from outages.views.public import is_valid_phone

LOOKUP_LIMIT = 5
LOOKUP_MAX_LIMIT = 20
# How far around a place the look-up counts outages, by the kind of place (metres).
PLACE_RADIUS = {
    Place.Kind.SUB_DISTRICT: 2000,
    Place.Kind.COMMUNITY: 1000,
    Place.Kind.ROAD: 800,
    Place.Kind.PLACE: 500,
}
VERSION_KEY = "outages:public:version"
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,64}$")
REFERENCE_RE = re.compile(r"^[A-Za-z0-9-]{1,24}$")
STAFF_CHANNEL_ROLES = (roles.HOTLINE_AGENT, roles.DISPATCHER, roles.SUPERVISOR)
PUBLIC_CHANNELS = (
    TroubleReport.Channel.WEB,
    TroubleReport.Channel.HOTLINE,
    TroubleReport.Channel.APP,
    TroubleReport.Channel.WECHAT,
)


class _PublicApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]


# --- OpenAPI description of the answers (the views build plain dicts; see the builders) ----


class PublicCrewSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicCrew"

    status = serializers.CharField()
    lat = serializers.FloatField(help_text="rounded to 2 decimals (~1 km)")
    lng = serializers.FloatField(help_text="rounded to 2 decimals (~1 km)")


class PublicProgressSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicProgressStep"

    status = serializers.CharField()
    at = serializers.DateTimeField()


class PublicOutageSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicOutage"

    id = serializers.IntegerField()
    category = serializers.CharField(help_text="planned / temporary / fault / other")
    type = serializers.CharField(help_text="type name in the request's language")
    type_code = serializers.CharField()
    status = serializers.CharField()
    cause = serializers.CharField(allow_null=True, help_text="cause name, or null")
    cause_code = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    etr = serializers.DateTimeField(allow_null=True)
    customers_affected = serializers.IntegerField()
    progress = PublicProgressSchema(many=True)
    crew = PublicCrewSchema(allow_null=True)


class PublicPlannedSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicPlannedOutage"

    id = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField()


class PublicMatchSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicLookupMatch"

    address = serializers.CharField()
    district = serializers.CharField(allow_null=True)
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    outage = PublicOutageSchema(allow_null=True)
    planned = PublicPlannedSchema(many=True)


class PublicPlaceSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicLookupPlace"

    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Place.Kind.choices)
    address = serializers.CharField()
    district = serializers.CharField(allow_null=True)
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    radius = serializers.IntegerField(help_text="metres around the place searched for outages")
    outages_nearby = serializers.IntegerField()
    outages = PublicOutageSchema(many=True, help_text="the biggest outages nearby (at most 5)")


class PublicLookupSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicLookup"

    matches = PublicMatchSchema(many=True)
    places = PublicPlaceSchema(
        many=True,
        required=False,
        help_text="gazetteer places matching q (or named exactly q when customers matched); "
        "present only when a place was found",
    )


class PublicReportSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicReport"

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=TroubleReport.Status.choices)
    outage = PublicOutageSchema(allow_null=True)
    message = serializers.CharField()
    symptom = serializers.CharField()
    received_at = serializers.DateTimeField()


# --- the outages version (cache invalidation) ------------------------------------------------


def public_version() -> int | None:
    """The global outages version that public cache keys include; None while Redis is down
    (then nothing is read from or written to the cache)."""
    return cache_breaker.call(_public_version, None)


def _public_version() -> int:
    value = cache.get(VERSION_KEY)
    if value is None:
        # Start from the clock, not 1: keys of an evicted counter must not come back to life.
        cache.add(VERSION_KEY, int(time.time() * 1000), timeout=None)
        value = cache.get(VERSION_KEY) or 0
    return int(value)


def bump_public_version(event: events.DomainEvent | None = None) -> None:
    """Subscriber of ``outage.changed``: every cached public answer becomes stale.

    With Redis down the bump is skipped (logged once): answers cached before the outage
    expire after ``PUBLIC_LOOKUP_CACHE_SECONDS`` at the latest.
    """
    cache_breaker.call(_bump_public_version, None)


def _bump_public_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # missing (evicted): start a fresh, larger one
        cache.add(VERSION_KEY, int(time.time() * 1000), timeout=None)


def subscribe() -> None:
    """Called from ``OutagesConfig.ready()``."""
    events.subscribe(events.OUTAGE_CHANGED, bump_public_version)


# --- building public answers --------------------------------------------------------------


_iso = iso
_english = is_english


def _name(obj: Any) -> str | None:
    return None if obj is None else local_name(obj)


def public_outage(outage: Outage) -> dict[str, Any]:
    """The contract's outage object. ``outage`` has ``type__category`` and ``cause`` loaded.

    ``category`` is the category code; ``type`` and ``cause`` are names in the active
    language, with their codes beside them (``type_code``, ``cause_code``).
    """
    return _outage_answer(
        outage, outage_public_progress(outage_id=outage.pk), public_crew.crew_for_outage(outage.pk)
    )


def _outage_answer(
    outage: Outage, progress: list[tuple[str, datetime]], crew: public_crew.PublicCrew | None
) -> dict[str, Any]:
    return {
        "id": outage.pk,
        "category": outage.type.category.code,
        "type": _name(outage.type),
        "type_code": outage.type.code,
        "status": outage.status,
        "cause": _name(outage.cause),
        "cause_code": outage.cause.code if outage.cause else None,
        "started_at": _iso(outage.started_at),
        "etr": _iso(outage.etr),
        "customers_affected": outage.customers_affected,
        "progress": [{"status": s, "at": _iso(at)} for s, at in progress],
        "crew": crew,
    }


def _filed_outage(outage: Outage) -> dict[str, Any]:
    """``public_outage`` for the answer to a report just filed, from the per-process copies
    of ``outage_answer_parts``: the progress exact for the outage's version, the crew up to
    ``CREW_MAX_AGE`` (2 s) old. In a storm most calls merge into a few outages; their callers
    are told the same thing, and building it once per process and version saves two reads
    per call. The outage itself comes from ``outage_for_report`` (type, category and cause
    names up to ``TAXONOMY_MAX_AGE``, 10 s, old)."""
    progress, crew = outage_answer_parts(outage)
    return _outage_answer(outage, progress, crew)


def public_report(
    report: TroubleReport, outage_answer: Callable[[Outage], dict[str, Any]] = public_outage
) -> dict[str, Any]:
    """The contract's report answer: reference, status, outage (once linked), message."""
    return {
        "reference": report.reference,
        "status": report.status,
        "outage": outage_answer(report.outage) if report.outage is not None else None,
        "message": report_message(report),
        "symptom": report.symptom,
        "received_at": _iso(report.received_at),
    }


# --- look-up ------------------------------------------------------------------------------


def _public_place(place: Place) -> dict[str, Any]:
    radius = PLACE_RADIUS[Place.Kind(place.kind)]
    total, outages = outages_near_point(lat=place.lat, lng=place.lng, radius_m=radius)
    district = _name(place.district) if place.district is not None else place.district_name
    return {
        "name": place.name,
        "kind": place.kind,
        "address": place.address,
        "district": district or None,
        "lat": round(place.lat, 5),
        "lng": round(place.lng, 5),
        "radius": radius,
        "outages_nearby": total,
        "outages": [public_outage(o) for o in outages],
    }


def lookup_places(
    q: str, limit: int = LOOKUP_LIMIT, *, exact: bool = False
) -> list[dict[str, Any]]:
    """Gazetteer places matching ``q`` with the outages around each (never for a number).
    ``exact``: only places called exactly ``q``."""
    if normalize_identifier(q):
        return []
    places = place_named(q=q, limit=limit) if exact else place_search(q=q, limit=limit)
    return [_public_place(p) for p in places]


def lookup_matches(q: str, limit: int = LOOKUP_LIMIT) -> list[dict[str, Any]]:
    """The public matches of ``q``. A number only matches an account exactly (never a phone,
    never an account prefix: the answer must not let anyone find a person's address)."""
    return _lookup_matches(q, limit)[0]


def _lookup_matches(q: str, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """``lookup_matches`` and whether a place may be called exactly ``q`` (False only when
    the search already knows none is).

    Plain rows, two or three statements at most whatever the number of matches (see
    ``outages.selectors.lookup``); the answers are those of ``service_point_search`` with, per
    match, ``outage_for_service_point`` and the published ``planned_outages_for_service_point``.
    """
    found = lookup_points(q, limit)
    if found is not None:
        points, place_named = found
    else:
        place_named = True
        ident = normalize_identifier(q)
        try:
            hits = service_point_search(q=q, limit=limit)
        except EmptyResultSet:
            # grids' search with a district prefix that names no district in the database.
            hits = []
        if ident:
            hits = [
                h
                for h in hits
                if h.service_point.account_no == ident or ident in h.service_point.address_norm
            ]
        points = lookup_points_by_id([h.service_point.pk for h in hits])
    outage_ids = list(dict.fromkeys(p.outage_id for p in points if p.outage_id is not None))
    outages = {pk: _lookup_outage(row) for pk, row in lookup_outages(outage_ids).items()}
    planned = lookup_planned([p.id for p in points if p.has_planned])
    english = _english()
    answer = [
        {
            "address": p.address,
            "district": (
                None
                if p.district_name is None
                else (p.district_name_en if english and p.district_name_en else p.district_name)
            ),
            "lat": round(p.lat, 4),
            "lng": round(p.lng, 4),
            "outage": outages.get(p.outage_id) if p.outage_id is not None else None,
            "planned": [_lookup_planned(row, english) for row in planned.get(p.id, ())],
        }
        for p in points
    ]
    return answer, place_named


def _lookup_outage(row: LookupOutage) -> dict[str, Any]:
    """``public_outage``'s object from a plain row."""
    english = _english()
    return {
        "id": row.id,
        "category": row.category_code,
        "type": row.type_name_en if english and row.type_name_en else row.type_name,
        "type_code": row.type_code,
        "status": row.status,
        "cause": (
            None
            if row.cause_code is None
            else (row.cause_name_en if english and row.cause_name_en else row.cause_name)
        ),
        "cause_code": row.cause_code,
        "started_at": _iso(row.started_at),
        "etr": _iso(row.etr),
        "customers_affected": row.customers_affected,
        "progress": [
            {"status": s, "at": _iso(at)}
            for s, at in zip(row.progress_statuses, row.progress_at, strict=True)
        ],
        "crew": public_crew.crew_for_outage(row.id),
    }


def _lookup_planned(row: LookupPlanned, english: bool) -> dict[str, Any]:
    return {
        "id": row.id,
        "starts_at": _iso(row.starts_at),
        "ends_at": _iso(row.ends_at),
        "reason": row.description
        or (row.type_name_en if english and row.type_name_en else row.type_name),
    }


class PublicLookupApi(_PublicApi):
    """Is my address out? Address fragment or account number; cached, rate-limited."""

    class QuerySerializer(serializers.Serializer):
        class Meta:
            ref_name = "PublicLookupQuery"

        q = serializers.CharField(
            min_length=2,
            max_length=100,
            trim_whitespace=True,
            help_text="address fragment or account number",
        )
        limit = serializers.IntegerField(
            min_value=1,
            max_value=LOOKUP_MAX_LIMIT,
            default=LOOKUP_LIMIT,
            help_text="most matches (and places) returned",
        )

    @extend_schema(
        operation_id="public_lookup",
        parameters=[QuerySerializer],
        responses={200: PublicLookupSchema, 400: ErrorSerializer, 429: ErrorSerializer},
        tags=["public"],
    )
    def get(self, request: Request) -> Response:
        params = self.QuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(lookup_answer(params.validated_data["q"], params.validated_data["limit"]))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """A plain GET within the limit is answered without DRF's request, serializer and
        renderer (a storm's callers send thousands a minute); anything else (a bad query, a
        refused one, another method or format) goes through DRF, which answers the same."""
        if request.method == "GET":
            params = _lean_lookup_params(request)
            body = None if params is None else _lean_lookup_body(request, self, *params)
            if body is not None:
                response = HttpResponse(body, content_type="application/json")
                response["Allow"] = ", ".join(self.allowed_methods)
                return response
        return super().dispatch(request, *args, **kwargs)


# What ``_lean_lookup_params`` accepts; anything else is left to DRF's validation.
_LEAN_ACCEPT = frozenset({"", "*/*", "application/json"})
_LEAN_PARAMS = frozenset({"q", "limit"})
_SURROGATES = re.compile("[\ud800-\udfff]")


def _lean_lookup_params(request: HttpRequest) -> tuple[str, int] | None:
    """``(q, limit)`` of a look-up that ``QuerySerializer`` would accept as is, else None."""
    query = request.GET
    if request.META.get("HTTP_ACCEPT", "") not in _LEAN_ACCEPT or not set(query) <= _LEAN_PARAMS:
        return None
    raw_q, raw_limit = query.get("q"), query.get("limit")
    if raw_q is None:
        return None
    q = raw_q.strip()
    if not 2 <= len(q) <= 100 or "\x00" in q or _SURROGATES.search(q):
        return None
    if raw_limit is None:
        return q, LOOKUP_LIMIT
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3):
        return None
    limit = int(raw_limit)
    return (q, limit) if 1 <= limit <= LOOKUP_MAX_LIMIT else None


def lookup_answer(q: str, limit: int) -> dict[str, Any]:
    """The look-up's answer to a valid ``q`` and ``limit``: cached per query (and language)
    until the outages version changes or ``PUBLIC_LOOKUP_CACHE_SECONDS`` pass. A cached
    answer is the JSON body ``_lean_lookup_body`` answers too, decoded."""
    norm, key = _lookup_key(q, limit)
    # Redis down (version None): answered from the database, nothing cached.
    version, body = _lookup_cached(key)
    if body is not None:
        answer: dict[str, Any] = json.loads(body)
        return answer
    answer = _lookup_fresh(q, norm, limit)
    if version is not None:
        _lookup_store(key, version, _json_body(answer))
    return answer


def _lean_lookup_body(request: HttpRequest, view: APIView, q: str, limit: int) -> bytes | None:
    """The JSON body of ``lookup_answer(q, limit)`` for a plain GET, or None when the rate
    limit refuses it (DRF then answers the 429 as it does for any request).

    With Redis, the throttle's hit and the cache read (the outages version and the cached
    body) are one round trip; a hit is answered with the cached bytes as they are. A miss's
    answer is cached in the process's next look-up's round trip (``_deferred``), before its
    read: no round trip of its own. Without Redis, and while it is down, the throttle and the
    cache are those of every other request.
    """
    norm, key = _lookup_key(q, limit)
    throttles = view.get_throttles()
    values = None
    if len(throttles) == 1 and isinstance(throttles[0], SlidingWindowThrottle):
        writes = _take_deferred()
        allowed, values = throttles[0].allow_request_and_read(
            request,  # type: ignore[arg-type]
            (VERSION_KEY, key),
            writes,
        )
        if values is None and writes:
            _lookup_store_now(writes)  # not written (no rate for the scope, or Redis down)
    else:
        allowed = all(
            throttle.allow_request(request, view)  # type: ignore[arg-type]
            for throttle in throttles
        )
    if not allowed:
        return None
    version, body = _lookup_cached(key) if values is None else _lookup_entry(*values)
    if body is None:
        body = _json_body(_lookup_fresh(q, norm, limit))
        if version is not None:
            _lookup_store(key, version, body, defer=values is not None)
    return body


# Answers computed but not yet cached: (Redis key, entry, seconds), written with the process's
# next look-up. At most this many wait; older ones are dropped (a cache may lose entries).
_deferred: deque[tuple[str, bytes, int | None]] = deque(maxlen=32)


def _take_deferred() -> list[tuple[str, bytes, int | None]]:
    taken = []
    while _deferred:
        try:
            taken.append(_deferred.popleft())
        except IndexError:  # another thread took the last one
            break
    return taken


def _lookup_store_now(writes: list[tuple[str, bytes, int | None]]) -> None:
    _backend, client = default_cache_client()
    if client is None:
        return

    def store() -> None:
        pipe = client.pipeline(transaction=False)
        for full_key, entry, seconds in writes:
            pipe.set(full_key, entry, ex=seconds)
        pipe.execute()

    cache_breaker.call(store, None)


def _lookup_key(q: str, limit: int) -> tuple[str, str]:
    """The normalised query and the cache key of its answer (per language and limit)."""
    ident = normalize_identifier(q)
    parsed = None if ident else parse_address(q)
    norm = ident or parsed.norm  # type: ignore[union-attr]
    # The district a prefix names narrows the search: part of the key (福田区梅林路, 罗湖区梅林路).
    district = "" if parsed is None else parsed.district or ""
    digest = hashlib.sha256(f"{district}\x00{norm}".encode()).hexdigest()[:32]
    return norm, f"outages:lookup:json:{get_language()}:{limit}:{digest}"


def _lookup_fresh(q: str, norm: str, limit: int) -> dict[str, Any]:
    """The look-up's answer from the database."""
    matches, place_named = _lookup_matches(q, limit) if norm else ([], False)
    # Customers' addresses first; places when none matched, or when ``q`` names a
    # place outright (园岭街道: the caller asks about the area, not one premise).
    wanted = norm and (place_named or not matches)
    places = lookup_places(q, limit, exact=bool(matches)) if wanted else []
    # Only present when places were found: customer answers keep their exact shape.
    return {"matches": matches, **({"places": places} if places else {})}


# With Redis a cached answer is stored raw (no pickle): the version's digits, a newline, the
# JSON body. Other cache backends keep the pair (version, body).
_ENTRY_SEP = b"\n"


def _lookup_cached(key: str) -> tuple[int | None, bytes | None]:
    """The outages version and the body cached under ``key`` for it (None when there is
    none, or only one of an older version), in one round trip; (None, None) while Redis is
    down."""
    backend, client = default_cache_client()

    def read() -> tuple[int | None, bytes | None]:
        if client is not None:
            values = client.mget(
                [backend.make_and_validate_key(VERSION_KEY), backend.make_and_validate_key(key)]
            )
            return _lookup_entry(*values)
        found = cache.get_many([VERSION_KEY, key])
        if found.get(VERSION_KEY) is None:
            return public_version(), None
        version = int(found[VERSION_KEY])
        entry = found.get(key)
        if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
            return version, entry[1]
        return version, None

    down: tuple[int | None, bytes | None] = (None, None)
    return cache_breaker.call(read, down)


def _lookup_entry(
    raw_version: bytes | None, raw_entry: bytes | None
) -> tuple[int | None, bytes | None]:
    """``_lookup_cached``'s answer from the raw values of ``VERSION_KEY`` and the entry."""
    if raw_version is None:
        # Missing (first use, evicted): started by ``public_version``; nothing cached for it.
        return public_version(), None
    version = int(raw_version)
    if raw_entry is not None:
        head, sep, body = raw_entry.partition(_ENTRY_SEP)
        if sep and head == raw_version:
            return version, body
    return version, None


def _lookup_store(key: str, version: int, body: bytes, *, defer: bool = False) -> None:
    """Cache ``body`` under ``key`` for ``version`` (one plain ``SET`` with Redis, or with the
    process's next look-up when ``defer``: see ``_deferred``); skipped while Redis is down.
    An entry written late is still safe: it carries the version it was computed at."""
    backend, client = default_cache_client()
    timeout = getattr(settings, "PUBLIC_LOOKUP_CACHE_SECONDS", 30)
    if client is None:
        cache_breaker.call(lambda: cache.set(key, (version, body), timeout=timeout), None)
        return
    seconds = backend.get_backend_timeout(timeout)
    if seconds == 0:
        return  # caching turned off
    full_key = backend.make_and_validate_key(key)
    entry = b"%d%b%b" % (version, _ENTRY_SEP, body)
    if defer:
        _deferred.append((full_key, entry, None if seconds is None else int(seconds)))
        return
    cache_breaker.call(lambda: client.set(full_key, entry, ex=seconds), None)


# --- reports ------------------------------------------------------------------------------


class ReportInputSerializer(PrebuiltFieldsMixin, serializers.Serializer):
    """A trouble report as a caller submits it: one of account / address / coordinates.

    Its fields are built once (``PrebuiltFieldsMixin``): this runs for every call of a storm.
    """

    class Meta:
        ref_name = "PublicReportInput"

    account_no = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True
    )
    address = serializers.CharField(
        max_length=200, required=False, allow_blank=True, allow_null=True
    )
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    lng = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    symptom = serializers.ChoiceField(choices=TroubleReport.Symptom.choices)
    phone = serializers.CharField(max_length=20)
    description = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, allow_null=True
    )
    channel = serializers.ChoiceField(
        choices=[(c.value, c.label) for c in PUBLIC_CHANNELS],
        required=False,
        default=TroubleReport.Channel.WEB,
    )

    def validate_phone(self, value: str) -> str:
        value = value.replace(" ", "")
        if not is_valid_phone(value):
            raise serializers.ValidationError(_("请输入有效的手机号码或带区号的固定电话。"))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        lat, lng = attrs.get("lat"), attrs.get("lng")
        if (lat is None) != (lng is None):
            message = _("经纬度需要同时提供。")
            raise serializers.ValidationError({"lat": [message], "lng": [message]})
        given = [
            name
            for name, present in (
                ("account_no", bool((attrs.get("account_no") or "").strip())),
                ("address", bool((attrs.get("address") or "").strip())),
                ("lat", lat is not None),
            )
            if present
        ]
        if len(given) != 1:
            message = (
                _("请填写户号、地址或位置坐标中的一项。")
                if not given
                else _("户号、地址和位置坐标只能填写其中一项。")
            )
            raise serializers.ValidationError({"location": [message]})
        return attrs


# Text a CharField refuses whatever its length (NUL, lone surrogates): left to the serializer.
_UNPLAIN_TEXT = re.compile("[\x00\ud800-\udfff]")
_OPTIONAL_TEXT = (("account_no", 32), ("address", 200), ("description", 1000))
_COORDINATES = (("lat", 90), ("lng", 180))
_SYMPTOMS = frozenset(TroubleReport.Symptom.values)
_PUBLIC_CHANNEL_VALUES = frozenset(c.value for c in PUBLIC_CHANNELS)


def plainly_valid_report(data: Any) -> dict[str, Any] | None:
    """``ReportInputSerializer``'s validated data for a body it plainly accepts, else None.

    A storm's calls are nearly all well-formed JSON objects of strings and numbers: for
    those, this makes the serializer's checks (types, lengths, choices, the phone, exactly
    one location) directly and builds the same ``validated_data`` (text stripped, numbers
    as floats, the channel's default, absent optional fields left out). Anything else (a
    form body, another type, a value out of range, any error) answers None and goes through
    the serializer, so every error answer is the serializer's own. ``test_public_api``
    checks both over many generated bodies.
    """
    if type(data) is not dict:
        return None
    out: dict[str, Any] = {}
    for name, max_length in _OPTIONAL_TEXT:
        if name in data:
            value = data[name]
            if value is not None:
                if type(value) is not str or _UNPLAIN_TEXT.search(value):
                    return None
                value = value.strip()
                if len(value) > max_length:
                    return None
            out[name] = value
    for name, bound in _COORDINATES:
        if name in data:
            value = data[name]
            if value is not None:
                if type(value) is not float and type(value) is not int:
                    return None
                if not -bound <= value <= bound:  # NaN fails too
                    return None
                value = float(value)
            out[name] = value
    symptom, phone = data.get("symptom"), data.get("phone")
    if type(symptom) is not str or symptom not in _SYMPTOMS:
        return None
    out["symptom"] = symptom
    if type(phone) is not str or _UNPLAIN_TEXT.search(phone):
        return None
    phone = phone.strip()
    if not phone or len(phone) > 20:
        return None
    phone = phone.replace(" ", "")
    if not is_valid_phone(phone):
        return None
    out["phone"] = phone
    channel = data.get("channel", TroubleReport.Channel.WEB)
    if type(channel) is not str and channel is not TroubleReport.Channel.WEB:
        return None
    if channel not in _PUBLIC_CHANNEL_VALUES:
        return None
    out["channel"] = channel
    lat, lng = out.get("lat"), out.get("lng")
    if (lat is None) != (lng is None):
        return None
    given = bool(out.get("account_no")) + bool(out.get("address")) + (lat is not None)
    return out if given == 1 else None


def report_validated_data(data: Any) -> dict[str, Any]:
    """The validated report body: ``plainly_valid_report``, else the serializer's (which
    raises its ``ValidationError``)."""
    plain = plainly_valid_report(data)
    if plain is not None:
        return plain
    serializer = ReportInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header, checked; None when absent."""
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if not IDEMPOTENCY_KEY_RE.match(key):
        message = _("Idempotency-Key 必须是 1 到 64 个可见 ASCII 字符。")
        raise DomainError(message, code="invalid", fields={"Idempotency-Key": [message]})
    return key


def request_user(request: Request) -> User | None:
    """The logged-in user, or None for an anonymous caller."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def idempotency_client(request: Request) -> str:
    """Whose key space a key belongs to: the user, or the public at large."""
    user = request.user
    return f"user:{user.pk}" if user is not None and user.is_authenticated else "public"


# Accept headers whose answer from DRF's negotiation with only the JSON renderer is known.
_JSON_ACCEPTS = frozenset({None, "*/*", "application/json"})


class JsonFirstNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once for what clients send nearly always: no Accept
    header, ``*/*`` or ``application/json``, no ``?format=``, only the JSON renderer. The
    answer is DRF's own for those (``application/json``); every other request is DRF's."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        if (
            format_suffix is None
            and len(renderers) == 1
            and type(renderers[0]) is JSONRenderer
            and request.META.get("HTTP_ACCEPT") in _JSON_ACCEPTS
            and not request.META.get("QUERY_STRING")
        ):
            return renderers[0], JSONRenderer.media_type
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        return renderer, media_type


class PublicReportCreateApi(APIView):
    """File a trouble report (the map page, mini-programs; staff may set the channel)."""

    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonFirstNegotiation

    @extend_schema(
        operation_id="public_report_create",
        request=ReportInputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: PublicReportSchema,
            200: PublicReportSchema,
            400: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["public"],
    )
    def post(self, request: Request) -> Response:
        data = report_validated_data(request.data)
        channel = data.get("channel") or TroubleReport.Channel.WEB
        if channel != TroubleReport.Channel.WEB and not roles.has_role(
            request.user, *STAFF_CHANNEL_ROLES
        ):
            message = _("在线报修只能使用 web 渠道。")
            raise DomainError(message, code="invalid", fields={"channel": [message]})
        result = _report_file(
            data,
            channel,
            actor=request_user(request),
            client=idempotency_client(request),
            key=idempotency_key(request),
        )
        return Response(
            public_report(result.report, _filed_outage),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """An anonymous caller's plainly valid JSON report within the limit is filed without
        DRF's request, authentication, negotiation and renderer (the front door of a storm);
        anything else goes through DRF, which answers the same. A domain error (outside the
        service area, a reused key) leaves nothing written, so DRF then answers it."""
        if request.method == "POST":
            data = _lean_report_body(request)
            if data is not None and all(
                throttle.allow_request(request, self)  # type: ignore[arg-type]
                for throttle in self.get_throttles()
            ):
                try:
                    result = _report_file(
                        data,
                        TroubleReport.Channel.WEB,
                        actor=None,
                        client="public",
                        key=request.headers.get("Idempotency-Key") or None,
                    )
                except DomainError:
                    return super().dispatch(request, *args, **kwargs)
                response = HttpResponse(
                    _json_body(public_report(result.report, _filed_outage)),
                    content_type="application/json",
                    status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
                )
                response["Allow"] = ", ".join(self.allowed_methods)
                # DRF's answer reads the session (Vary: Cookie); a session routes it there.
                patch_vary_headers(response, ("Cookie",))
                return response
        return super().dispatch(request, *args, **kwargs)


def _report_file(
    data: dict[str, Any], channel: str, *, actor: User | None, client: str, key: str | None
) -> IntakeResult:
    """``report_submit`` of a validated report body."""
    return report_submit(
        data=ReportInput(
            channel=channel,
            symptom=data["symptom"],
            contact_phone=data["phone"],
            description=(data.get("description") or "").strip(),
            account_no=(data.get("account_no") or "").strip(),
            address=(data.get("address") or "").strip(),
            lat=data.get("lat"),
            lng=data.get("lng"),
        ),
        actor=actor,
        idempotency_client=client,
        idempotency_key=key,
    )


def _json_body(answer: dict[str, Any]) -> bytes:
    """``answer`` as DRF's JSON renderer writes it (compact, UTF-8, U+2028/9 escaped)."""
    body = json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


# The lean report path: small JSON bodies of anonymous callers, nothing DRF would answer
# differently (no session or token, no query string, a known Accept, a well-formed key).
_LEAN_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8"})
_LEAN_BODY_MAX = 8192


def _lean_report_body(request: HttpRequest) -> dict[str, Any] | None:
    """The validated body of a report the lean path may file, else None (DRF's to answer)."""
    meta = request.META
    if (
        meta.get("CONTENT_TYPE", "").lower() not in _LEAN_CONTENT_TYPES
        or meta.get("HTTP_ACCEPT", "") not in _LEAN_ACCEPT
        or meta.get("QUERY_STRING")
        or "HTTP_AUTHORIZATION" in meta
        or settings.SESSION_COOKIE_NAME in request.COOKIES
    ):
        return None
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        return None
    length = meta.get("CONTENT_LENGTH") or ""
    if not (length.isdigit() and 0 < int(length) <= _LEAN_BODY_MAX):
        return None
    try:
        parsed = SafeJSONParser().parse(io.BytesIO(request.body))
    except ParseError:
        return None
    data = plainly_valid_report(parsed)
    if data is None or (data.get("channel") or TroubleReport.Channel.WEB) != (
        TroubleReport.Channel.WEB
    ):
        return None
    return data


class PublicReportDetailApi(_PublicApi):
    """A report's status and, once linked, its outage's progress."""

    @extend_schema(
        operation_id="public_report_retrieve",
        responses={200: PublicReportSchema, 404: ErrorSerializer, 429: ErrorSerializer},
        tags=["public"],
    )
    def get(self, request: Request, reference: str) -> Response:
        if not REFERENCE_RE.match(reference):
            raise NotFound(_("没有找到报修编号 %(reference)s。") % {"reference": reference})
        report = report_get_by_reference(reference=reference.upper())
        return Response(public_report(report))
