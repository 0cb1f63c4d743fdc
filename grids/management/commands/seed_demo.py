"""Build the demo city: Shenzhen's districts, grids, crews, network and customers."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from grids.models import ServicePoint
from grids.services.demo import demo_city_seed


class Command(BaseCommand):
    help = (
        "Create the demo city (10 districts, 74 sub-districts, ~73 grids with stations and "
        "crews, 10 kV feeders, N service points) and the demo logins. Safe to run again: "
        "existing rows are kept and service points are topped up to N."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--service-points",
            type=int,
            default=20_000,
            help="How many service points the city should have (default 20000).",
        )
        parser.add_argument(
            "--feeders-per-grid",
            type=int,
            default=4,
            help="10 kV feeders per grid (default 4; fewer builds faster, e.g. for tests).",
        )
        parser.add_argument(
            "--crews-per-station",
            type=int,
            default=None,
            help="Crews per repair station (default: 8 to 11, about 700 in all).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        total = options["service_points"]
        if total < 0 or options["feeders_per_grid"] < 1:
            self.stderr.write("--service-points must be >= 0 and --feeders-per-grid >= 1")
            sys.exit(2)
        missing = max(total - ServicePoint.objects.count(), 0)
        show = not options["no_progress"] and options["verbosity"] > 0 and missing > 0
        with tqdm(
            total=missing, unit="sp", desc="service points", disable=not show, file=sys.stderr
        ) as bar:
            result = demo_city_seed(
                service_points=total,
                feeders_per_grid=options["feeders_per_grid"],
                crews_per_station=options["crews_per_station"],
                progress=bar.update,
            )
        made = ", ".join(f"{k} {v}" for k, v in result.created.items() if v)
        self.stdout.write(
            f"Demo city ready in {result.seconds:.1f} s: "
            f"{result.service_points_total} service points"
            + (f" (created: {made})" if made else " (nothing to create)")
        )
