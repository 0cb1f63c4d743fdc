"""Reliability indices for an event-level outage history kept elsewhere (offline check)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reliability import indices
from reliability.csvinput import CsvFault, parse_count, parse_time, rows

NOT_FROM_EVENTS = (
    "CAIFI and CEMI-n need to know which customers each event interrupted; event-level "
    "records (a count per event) cannot give them."
)


class Command(BaseCommand):
    help = (
        "Read outage events (CSV columns start, end with UTC offsets, customers) and print one "
        "JSON object with SAIFI, SAIDI and CAIDI (minutes), MAIFI and the number of events, "
        "for --customers customers served. Interruptions longer than --threshold-minutes are "
        "sustained (5: IEEE 1366; 3: DL/T 836)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", required=True, type=Path, metavar="FILE.csv")
        parser.add_argument("--customers", required=True, type=int, metavar="N")
        parser.add_argument("--threshold-minutes", type=float, default=5.0)

    def handle(self, *args: Any, **options: Any) -> None:
        served: int = options["customers"]
        if served <= 0:
            raise CommandError("--customers must be a positive number of customers served")
        if options["threshold_minutes"] < 0:
            raise CommandError("--threshold-minutes must not be negative")
        threshold = timedelta(minutes=options["threshold_minutes"])
        path: Path = options["events"]

        def progress(count: int) -> None:
            self.stderr.write(f"{path}: {count:,} lines read")

        events: list[indices.Event] = []
        try:
            for line, row in rows(path, required=("start", "end", "customers"), progress=progress):
                start = parse_time(row["start"], path=path, line=line, column="start")
                end = parse_time(row["end"], path=path, line=line, column="end")
                if end < start:
                    raise CsvFault(f"{path}, line {line}: end is before start")
                customers = parse_count(row["customers"], path=path, line=line, column="customers")
                events.append(indices.Event(start=start, end=end, customers=customers))
        except CsvFault as exc:
            raise CommandError(str(exc)) from None

        result = indices.from_events(events, customers_served=served, threshold=threshold)
        totals = result.totals
        out = {
            "SAIFI": round(result.SAIFI, 6),
            "SAIDI": round(result.SAIDI, 6),
            "CAIDI": None if result.CAIDI is None else round(result.CAIDI, 6),
            "MAIFI": round(result.MAIFI, 6),
            "events": len(events),
            "sustained_events": totals.sustained_events,
            "momentary_events": totals.momentary_events,
            "customer_interruptions": totals.customer_interruptions,
            "customer_minutes": round(totals.customer_minutes, 3),
            "momentary_interruptions": totals.momentary_interruptions,
            "customers_served": served,
            "threshold_minutes": options["threshold_minutes"],
            "CAIFI": None,
            "CEMI": None,
            "not_available": NOT_FROM_EVENTS,
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False))
