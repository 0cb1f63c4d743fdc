"""Reads for the supervisors' dashboard (``dashboard`` app): the names of its scopes."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch_center.core.i18n import pick_name
from grids.models import Crew, District, Grid, RepairStation


@dataclass(frozen=True)
class Scopes:
    """Districts, grids (with their district) and crews (with their station's grid)."""

    districts: dict[int, str]
    grids: dict[int, tuple[str, int]]
    crews: dict[int, tuple[str, int]]


def dashboard_scopes() -> Scopes:
    """Every district, grid and crew by id, for labels, filters and drill-down."""
    return Scopes(
        districts=dict(District.objects.order_by("name").values_list("id", "name")),
        grids={
            pk: (name, district_id)
            for pk, name, district_id in Grid.objects.order_by("name").values_list(
                "id", "name", "district_id"
            )
        },
        crews={
            pk: (name, grid_id)
            for pk, name, grid_id in Crew.objects.order_by("name").values_list(
                "id", "name", "station__grid_id"
            )
        },
    )


def station_names() -> dict[int, str]:
    """Every repair station: id → name."""
    return dict(RepairStation.objects.order_by("name").values_list("id", "name"))


def district_names() -> dict[int, str]:
    """Every district: id → name in the page's language (ordered by the Chinese name)."""
    rows = District.objects.order_by("name").values_list("id", "name", "name_en")
    return {pk: pick_name(name, en) for pk, name, en in rows}
