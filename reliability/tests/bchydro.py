"""Turn BC Hydro outage records into the offline commands' CSV formats (test helper).

The feed reports one outage id many times (re-reports with a later ``dateOn``): keep the
last report of each id (the highest ``lastUpdated``).
"""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from pathlib import Path


def read_unique(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        latest: dict[str, dict[str, str]] = {}
        for row in csv.DictReader(handle):
            seen = latest.get(row["id"])
            if seen is None or row["lastUpdated"] >= seen["lastUpdated"]:
                latest[row["id"]] = row
    return list(latest.values())


def write_events(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start", "end", "customers"])
        for row in rows:
            writer.writerow([_iso(row["dateOff"]), _iso(row["dateOn"]), row["numCustomersOut"]])


def customer_key(row: dict[str, str]) -> str:
    """A street block stands for a customer: the feed has no account numbers."""
    return f"{row['municipality']}|{row['area']}"


def write_interruptions(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "start", "end", "planned"])
        for row in rows:
            planned = row["cause"].lower().startswith("planned")
            writer.writerow(
                [
                    customer_key(row),
                    _iso(row["dateOff"]),
                    _iso(row["dateOn"]),
                    "true" if planned else "false",
                ]
            )


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()
