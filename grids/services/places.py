"""Writing the place gazetteer (``grids.models.Place``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from grids.address import normalize_address
from grids.gazetteer import PlaceRow
from grids.models import District, Place

FIELDS = ("kind", "search_norm", "district_name", "district_id", "lat", "lng")


@dataclass(frozen=True, slots=True)
class PlaceImportResult:
    """How many places an import created, changed and found as they were."""

    created: int
    updated: int
    unchanged: int


def _district_ids() -> dict[str, int]:
    """District pk by full name and by name without its 区 / 新区 suffix."""
    out: dict[str, int] = {}
    for pk, name in District.objects.values_list("pk", "name"):
        out[name] = pk
        out[name.removesuffix("新区").removesuffix("区")] = pk
    return out


def place_search_norm(*, name: str, address: str) -> str:
    """What place search matches: the normalised name, a space, the normalised address."""
    return f"{normalize_address(name)} {normalize_address(address)}"[:320]


@transaction.atomic
def place_import(*, rows: Iterable[PlaceRow]) -> PlaceImportResult:
    """Create or update one place per (name, address) of ``rows`` (WGS-84, already checked).

    Idempotent: importing the same rows again updates nothing. A district is linked when its
    name matches one in the database (``罗湖区`` or ``罗湖``); the name is kept either way.
    """
    districts = _district_ids()
    wanted: dict[tuple[str, str], Place] = {}
    for r in rows:
        place = Place(
            kind=r.kind,
            name=r.name,
            address=r.address,
            search_norm=place_search_norm(name=r.name, address=r.address),
            district_name=r.district,
            district_id=districts.get(r.district),
            lat=r.lat,
            lng=r.lng,
        )
        place.full_clean(validate_unique=False, validate_constraints=False)
        wanted[(r.name, r.address)] = place
    existing = {
        (p.name, p.address): p
        for p in Place.objects.select_for_update().filter(name__in={k[0] for k in wanted})
    }
    new, changed, same = [], [], 0
    for key, place in wanted.items():
        old = existing.get(key)
        if old is None:
            new.append(place)
        elif any(getattr(old, f) != getattr(place, f) for f in FIELDS):
            for f in FIELDS:
                setattr(old, f, getattr(place, f))
            changed.append(old)
        else:
            same += 1
    Place.objects.bulk_create(new, batch_size=1000)
    Place.objects.bulk_update(changed, FIELDS, batch_size=1000)
    return PlaceImportResult(created=len(new), updated=len(changed), unchanged=same)
