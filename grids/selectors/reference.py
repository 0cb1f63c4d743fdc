"""Reference reads of the grid that other apps make: the querysets their API fields validate
against, one row by id, and the district and grid lists of their filters.

Other apps read grids' tables through here (or the other ``grids.selectors`` modules), never
through the managers.
"""

from __future__ import annotations

from django.db.models import QuerySet

from grids.models import Crew, Device, District, Grid, ServicePoint


def devices() -> QuerySet[Device]:
    """Every device (an API field's choices: looked up by code)."""
    return Device.objects.all()


def device_by_code(code: str) -> Device | None:
    """The device with ``code``, or None."""
    return Device.objects.filter(code=code).first()


def service_points(*, related: tuple[str, ...] = ()) -> QuerySet[ServicePoint]:
    """Every service point, with ``related`` selected (an API field's choices)."""
    qs = ServicePoint.objects.all()
    return qs.select_related(*related) if related else qs


def service_point_by_id(pk: int) -> ServicePoint | None:
    """The service point ``pk``, or None."""
    return ServicePoint.objects.filter(pk=pk).first()


def service_point_exists(pk: int) -> bool:
    """Whether service point ``pk`` exists."""
    return ServicePoint.objects.filter(pk=pk).exists()


def service_point_ids() -> list[int]:
    """Every service point's id, ascending."""
    return list(ServicePoint.objects.order_by("pk").values_list("pk", flat=True))


def district_by_id(pk: int) -> District | None:
    """The district ``pk``, or None."""
    return District.objects.filter(pk=pk).first()


def district_rows() -> list[tuple[int, str, str, str]]:
    """(pk, code, name, name_en) of every district, by code."""
    return list(District.objects.order_by("code").values_list("pk", "code", "name", "name_en"))


def grids() -> QuerySet[Grid]:
    """Every grid (an API field's choices)."""
    return Grid.objects.all()


def grid_rows() -> list[tuple[int, str, str, int]]:
    """(pk, code, name, district_id) of every grid, by code."""
    return list(Grid.objects.order_by("code").values_list("pk", "code", "name", "district_id"))


def crews() -> QuerySet[Crew]:
    """Every crew (an API field's choices)."""
    return Crew.objects.all()
