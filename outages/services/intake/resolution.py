"""Finding the caller's premise: account, coordinates (service area, nearest), address."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet

from grids import selectors as grid_selectors
from grids.address import parse_address
from grids.geodata import DISTRICTS
from grids.models import ServicePoint
from grids.selectors import service_point_search
from outages.models import TroubleReport

# An address hit is taken without an agent only when it is this good and this far ahead of
# the next one (scores of grids.selectors.search: prefix 0.7-0.9, contained 0.4-0.7).
ADDRESS_MIN_SCORE = 0.85
ADDRESS_MIN_LEAD = 0.1
ADDRESS_CANDIDATES = 5
# The district outlines of grids.geodata are simplified at ~600 m: allow a margin around them
# (degrees, ~1 km) so that a customer on the coast or a border is not refused.
SERVICE_AREA_MARGIN_DEG = 0.01


def _resolve(report: TroubleReport) -> ServicePoint | None:
    """The caller's service point, only when the match is confident."""
    if report.raw_account_no:
        return grid_selectors.service_point_for_account(report.raw_account_no)
    if report.lat is not None and report.lng is not None:
        return service_point_nearest(lat=report.lat, lng=report.lng)
    if report.raw_address:
        return service_point_for_address(report.raw_address)
    return None


def service_point_for_address(address: str) -> ServicePoint | None:
    """The service point of ``address`` when one is clearly meant, else None (an agent).

    Confident: exactly one premise has this normalised address (in the district the text
    starts with, if any), found by one indexed query before anything else; or the top hit
    of ``grids.selectors.service_point_search`` scores at least ``ADDRESS_MIN_SCORE`` and
    leads the next by ``ADDRESS_MIN_LEAD``. Several premises at the same address: an agent.
    """
    query = exact_address_query(address)
    if query is None:
        return None
    exact = query.run()
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None  # several premises share the address: ask
    return service_point_by_search(address)


def exact_address_query(address: str) -> grid_selectors.PremiseQuery | None:
    """The look-up of the premises whose normalised address is exactly ``address``'s (in the
    district the text starts with, if any; at most two: one is the caller's, two are an
    agent's to choose), or None when nothing of the address is left after normalising."""
    parsed = parse_address(address)
    if not parsed.norm:
        return None
    return grid_selectors.service_points_with_address_query(
        norm=parsed.norm, district=parsed.district
    )


def service_point_by_search(address: str) -> ServicePoint | None:
    """The top hit of ``grids.selectors.service_point_search`` for ``address`` when it scores
    at least ``ADDRESS_MIN_SCORE`` and leads the next by ``ADDRESS_MIN_LEAD``, else None."""
    try:
        hits = service_point_search(q=address, limit=ADDRESS_CANDIDATES)
    except EmptyResultSet:  # a district prefix naming no district in the database
        return None
    if not hits:
        return None
    ranked = sorted(hits, key=lambda h: -h.score)
    top = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    if top.score >= ADDRESS_MIN_SCORE and top.score - runner_up >= ADDRESS_MIN_LEAD:
        return top.service_point
    return None


def service_point_nearest_query(
    *, lat: float, lng: float, max_meters: float | None = None
) -> grid_selectors.PremiseQuery:
    """``service_point_nearest`` as a ``grids.selectors.PremiseQuery``."""
    default: float = getattr(settings, "OUTAGE_INTAKE_NEAREST_METERS", 150.0)
    return grid_selectors.service_point_nearest_query(
        lat=lat, lng=lng, max_meters=float(max_meters or default)
    )


def service_point_nearest(
    *, lat: float, lng: float, max_meters: float | None = None
) -> ServicePoint | None:
    """The service point nearest to (lat, lng) within ``max_meters`` (default
    ``OUTAGE_INTAKE_NEAREST_METERS``), or None (``grids.selectors.service_point_nearest``)."""
    default: float = getattr(settings, "OUTAGE_INTAKE_NEAREST_METERS", 150.0)
    return grid_selectors.service_point_nearest(
        lat=lat, lng=lng, max_meters=float(max_meters or default)
    )


@cache
def _service_area() -> Any:
    from shapely.geometry import Polygon
    from shapely.ops import unary_union
    from shapely.prepared import prep

    polygons = [Polygon(ring) for district in DISTRICTS for ring in district.outline]
    return prep(unary_union(polygons).buffer(SERVICE_AREA_MARGIN_DEG))


@cache
def _service_bbox() -> tuple[float, float, float, float]:
    boxes = [d.bbox for d in DISTRICTS]
    m = SERVICE_AREA_MARGIN_DEG
    return (
        min(b[0] for b in boxes) - m,
        min(b[1] for b in boxes) - m,
        max(b[2] for b in boxes) + m,
        max(b[3] for b in boxes) + m,
    )


def in_service_area(lat: float, lng: float) -> bool:
    """True when (lat, lng) (WGS-84) lies in Shenzhen's districts (with a small margin)."""
    from shapely.geometry import Point

    min_lng, min_lat, max_lng, max_lat = _service_bbox()
    if not (min_lat <= lat <= max_lat and min_lng <= lng <= max_lng):
        return False
    return bool(_service_area().contains(Point(lng, lat)))
