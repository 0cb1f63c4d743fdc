"""Reading the offline commands' CSV files: strict, with the file, line and fault named.

Plain Python (no ORM). ``CsvFault`` carries the message the commands print; progress goes to
a callback every ``PROGRESS_EVERY`` lines so a long file shows it is moving.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO

PROGRESS_EVERY = 100_000

TRUE = frozenset({"true", "1", "yes", "y", "t"})
FALSE = frozenset({"false", "0", "no", "n", "f"})


class CsvFault(ValueError):
    """A malformed file: the message names the file, the line and what is wrong."""


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def rows(
    path: Path,
    *,
    required: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row; ``CsvFault`` on a bad header or row."""
    if not path.is_file():
        raise CsvFault(f"{path}: no such file")
    with _open(path) as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise CsvFault(
                f"{path}, line 1: missing column(s) {', '.join(missing)} "
                f"(the header has: {', '.join(header) or 'nothing'})"
            )
        for count, row in enumerate(reader, start=1):
            line = reader.line_num
            if None in row or any(row.get(c) is None for c in required):
                raise CsvFault(f"{path}, line {line}: wrong number of fields")
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count)
            yield line, row


def parse_time(
    value: str, *, path: Path, line: int, column: str, tz: tzinfo | None = None
) -> datetime:
    """An ISO 8601 time; without an offset it is taken in ``tz`` (refused when ``tz`` is None)."""
    text = value.strip()
    if not text:
        raise CsvFault(f"{path}, line {line}: {column} is empty")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CsvFault(f"{path}, line {line}: {column} {text!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        if tz is None:
            raise CsvFault(f"{path}, line {line}: {column} {text!r} has no UTC offset")
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def parse_bool(value: str, *, path: Path, line: int, column: str) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise CsvFault(f"{path}, line {line}: {column} {value!r} is not true or false")


def parse_count(value: str, *, path: Path, line: int, column: str) -> int:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        raise CsvFault(f"{path}, line {line}: {column} {text!r} is not a number") from None
    if number < 0 or number != int(number):
        raise CsvFault(f"{path}, line {line}: {column} {text!r} is not a whole number >= 0")
    return int(number)
