"""Reading the CSV tables of a network export, with errors that name the file and line.

Pure Python, no ORM. Every problem raises :class:`NetworkFileError`, whose text is
``<file>:<line>: <message>`` (or ``<file>: <message>`` when no line applies), so an operator can
go straight to the broken row.
"""

import csv
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


class NetworkFileError(ValueError):
    """A file of the export is missing or malformed; nothing of the import was written."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n"})
# SimBench writes NULL for "no value"; OpenDSS exports leave the cell empty.
_EMPTY = frozenset({"", "null", "none", "nan"})


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of a table, with the physical line it came from."""

    file: str
    line: int
    values: dict[str, str]

    def error(self, message: str) -> NetworkFileError:
        return NetworkFileError(self.file, self.line, message)

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and value.lower() in _EMPTY:
            raise self.error(f"column '{column}' is empty")
        return value

    def number(self, column: str, *, required: bool = True) -> float | None:
        raw = self.text(column, required=required)
        if raw.lower() in _EMPTY:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise self.error(f"column '{column}' is not a number: '{raw}'") from None
        if not math.isfinite(value):
            raise self.error(f"column '{column}' is not a finite number: '{raw}'")
        return value

    def integer(self, column: str) -> int:
        value = self.number(column)
        if value is None or not value.is_integer():
            raise self.error(f"column '{column}' is not an integer: '{self.text(column)}'")
        return int(value)

    def flag(self, column: str) -> bool:
        raw = self.text(column).lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise self.error(f"column '{column}' must be 0 or 1, not '{raw}'")


def read_table(
    directory: Path,
    filename: str,
    *,
    required: Sequence[str],
    delimiter: str = ",",
    optional_file: bool = False,
) -> list[Row]:
    """All rows of ``directory/filename``; checks the file exists and has ``required`` columns.

    Returns an empty list for a missing ``optional_file``. Blank lines are skipped.
    """
    path = directory / filename
    if not path.is_file():
        if optional_file:
            return []
        raise NetworkFileError(filename, None, f"file not found in {directory}")
    return list(_rows(path, filename, required, delimiter))


def _rows(path: Path, filename: str, required: Sequence[str], delimiter: str) -> Iterator[Row]:
    # utf-8-sig: spreadsheet tools often prepend a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not header:
            raise NetworkFileError(filename, 1, "the file is empty (no header row)")
        reader.fieldnames = header
        missing = [c for c in required if c not in header]
        if missing:
            names = ", ".join(f"'{c}'" for c in missing)
            noun = "column" if len(missing) == 1 else "columns"
            raise NetworkFileError(filename, 1, f"missing {noun} {names}")
        try:
            for values in reader:
                if None in values:
                    raise NetworkFileError(
                        filename, reader.line_num, "more cells than the header has columns"
                    )
                if not any((v or "").strip() for v in values.values()):
                    continue
                yield Row(filename, reader.line_num, values)
        except csv.Error as exc:
            raise NetworkFileError(filename, reader.line_num, f"unreadable CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise NetworkFileError(filename, None, f"not UTF-8 text: {exc}") from None
