"""Finding places in the gazetteer by name or address fragment."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length

from grids.address import parse_address
from grids.gazetteer import road_of
from grids.models import Place

MAX_LIMIT = 50
# Leading parts of an unmatched text that are tried, longest first (at most 9 queries).
PREFIX_MAX, PREFIX_MIN = 12, 4
KIND_RANK = {
    Place.Kind.SUB_DISTRICT: 0,
    Place.Kind.COMMUNITY: 1,
    Place.Kind.ROAD: 2,
    Place.Kind.PLACE: 3,
}


def _ranked(fragment: str, district: str | None, limit: int) -> list[Place]:
    qs = Place.objects.select_related("district").filter(search_norm__contains=fragment)
    if district:
        short = district.removesuffix("新区").removesuffix("区")
        qs = qs.filter(Q(district_name=district) | Q(district_name=short))
    qs = qs.annotate(
        match=Case(
            When(search_norm__startswith=f"{fragment} ", then=Value(0)),
            When(search_norm__startswith=fragment, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        kind_rank=Case(
            *(When(kind=k, then=Value(v)) for k, v in KIND_RANK.items()),
            output_field=IntegerField(),
        ),
        name_length=Length("name"),
    )
    return list(qs.order_by("match", "kind_rank", "name_length", "name", "pk")[:limit])


def place_named(*, q: str, limit: int = 5) -> list[Place]:
    """Places called exactly ``q`` (a 街道, 社区 or road the caller named), larger units first."""
    name = parse_address(q).norm
    if not name:
        return []
    qs = Place.objects.select_related("district").filter(name=name)
    ranked = sorted(qs[:MAX_LIMIT], key=lambda p: (KIND_RANK[Place.Kind(p.kind)], p.pk))
    return ranked[: max(1, min(limit, MAX_LIMIT))]


def place_search(*, q: str, limit: int = 5) -> list[Place]:
    """Places whose name or address contains ``q`` (normalised), best first: exact names, then
    names starting with it, then the rest; larger units (街道, 社区, roads) before named places.

    A house number the gazetteer lacks (``金稻田路1185号``) falls back to the road it is on,
    and a longer text to its leading words (``深圳北站西广场`` → ``深圳北站``).
    """
    parsed = parse_address(q)
    fragment, district = parsed.norm, parsed.district
    limit = max(1, min(limit, MAX_LIMIT))
    if not fragment:
        return []
    found = _ranked(fragment, district, limit)
    if found:
        return found
    road = road_of(q)
    if road and road != fragment:
        found = _ranked(road, district, limit)
    # Drop trailing characters down to four (a place name's usual length), longest first.
    for end in range(min(len(fragment) - 1, PREFIX_MAX), PREFIX_MIN - 1, -1):
        if found:
            break
        found = _ranked(fragment[:end], district, limit)
    return found
