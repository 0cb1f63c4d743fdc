"""Import a place gazetteer (streets, communities, roads, named places) from a CSV file.

    python manage.py import_places places.csv --crs gcj02

Columns ``name, address, lat, lng, district`` and optionally ``kind`` (sub_district,
community, road, place; inferred from the name otherwise). ``--crs`` names the datum of the
coordinates: ``wgs84`` (GPS, OpenStreetMap) or ``gcj02`` (Amap, Tencent), converted to WGS-84.
The whole file is checked before anything is written; every problem is reported with the
file name and line. Importing the same file again changes nothing.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grids.gazetteer import CRS_CHOICES, GazetteerError, read_places
from grids.services.places import place_import


class Command(BaseCommand):
    help = "Import a place gazetteer CSV (name, address, lat, lng, district[, kind])."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file")
        parser.add_argument(
            "--crs", choices=CRS_CHOICES, required=True, help="datum of lat/lng: wgs84 or gcj02"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            rows = read_places(path, crs=options["crs"])
        except GazetteerError as exc:
            raise CommandError(str(exc)) from exc
        result = place_import(rows=rows)
        self.stdout.write(
            f"{path.name}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged"
        )
