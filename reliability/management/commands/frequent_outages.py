"""Frequent-outage levels for an interruption history kept elsewhere (offline check)."""

from __future__ import annotations

import json
from collections.abc import Hashable
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reliability import frequency
from reliability.csvinput import CsvFault, parse_bool, parse_time, rows


class Command(BaseCommand):
    help = (
        "Read interruptions (CSV columns customer, start, end, planned) and print one JSON "
        "object with each customer's frequent-outage level, reasons and counts on the as-of "
        "date, by the default policy (dates taken in --tz). An empty end is an interruption "
        "still in progress."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interruptions", required=True, type=Path, metavar="FILE.csv")
        parser.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--tz", default="Asia/Shanghai")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            as_of = date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(f"--as-of {options['as_of']!r} is not a YYYY-MM-DD date") from None
        try:
            tz = ZoneInfo(options["tz"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--tz {options['tz']!r} is not a time zone") from None
        policy = frequency.Policy(timezone=options["tz"])
        path: Path = options["interruptions"]

        def progress(count: int) -> None:
            self.stderr.write(f"{path}: {count:,} lines read")

        pairs: list[tuple[Hashable, frequency.Record]] = []
        try:
            for line, row in rows(
                path, required=("customer", "start", "end", "planned"), progress=progress
            ):
                customer = row["customer"].strip()
                if not customer:
                    raise CsvFault(f"{path}, line {line}: customer is empty")
                start = parse_time(row["start"], path=path, line=line, column="start", tz=tz)
                end = None
                if row["end"].strip():
                    end = parse_time(row["end"], path=path, line=line, column="end", tz=tz)
                    if end < start:
                        raise CsvFault(f"{path}, line {line}: end is before start")
                planned = parse_bool(row["planned"], path=path, line=line, column="planned")
                pairs.append(
                    (customer, frequency.Record(start=start, end=end, planned=planned, ref=line))
                )
        except CsvFault as exc:
            raise CommandError(str(exc)) from None

        results = frequency.assess_many(pairs, as_of=as_of, policy=policy)
        out = {
            "as_of": as_of.isoformat(),
            "period_start": policy.period_start(as_of).isoformat(),
            "timezone": options["tz"],
            "counts": frequency.tally(results.values()),
            "customers": {
                str(customer): {
                    "level": result.level,
                    "reasons": result.reason_texts(),
                    "counts": result.counts,
                    "reason_codes": [r.as_dict() for r in result.reasons],
                }
                for customer, result in sorted(results.items(), key=lambda kv: str(kv[0]))
            },
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False))
