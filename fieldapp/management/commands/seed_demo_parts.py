"""Give the demo city a small spare-parts catalogue and some stock at every repair station
(what a storekeeper would enter in the admin). Idempotent: existing rows are left as they
are. Run after ``seed_demo``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from fieldapp.models import SparePart, StationStock
from grids.models import RepairStation

CATALOGUE = (
    ("FUSE-LV-100A", "低压熔断器 100A", "只", 20),
    ("FUSE-MV-10K", "跌落式熔断器熔管 10kV", "只", 6),
    ("CABLE-JOINT-240", "电缆中间接头 240mm²", "套", 4),
    ("ARRESTER-10K", "避雷器 10kV", "只", 6),
    ("METER-BOX-1P", "单相表箱", "个", 10),
    ("CLAMP-JPX", "穿刺线夹", "只", 40),
)


class Command(BaseCommand):
    help = "Load the demo spare-parts catalogue and each station's stock (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        parts = []
        for code, name, unit, _quantity in CATALOGUE:
            part, _created = SparePart.objects.get_or_create(
                code=code, defaults={"name": name, "unit": unit}
            )
            parts.append(part)
        stations = list(RepairStation.objects.order_by("pk"))
        for index, station in enumerate(stations):
            for part, (_code, _name, _unit, quantity) in zip(parts, CATALOGUE, strict=True):
                # Stations differ a little, so "each station's stock" is worth looking at.
                StationStock.objects.get_or_create(
                    station=station, part=part, defaults={"quantity": quantity + index % 3}
                )
        self.stdout.write(f"spare parts: {len(parts)} in the catalogue, {len(stations)} stations")
