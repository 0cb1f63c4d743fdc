"""A dashboard table as CSV (UTF-8 with a BOM, so Excel reads the Chinese headers) and as
Excel (.xlsx: Chinese headers, real number, percentage and date cells)."""

from __future__ import annotations

import csv
import io
from datetime import date

from dashboard.tables import Table


def table_csv(table: Table) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([c.label for c in table.columns])
    for row in table.rows:
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in row]
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def table_xlsx(table: Table, *, subtitle: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = table.title[:31]
    ws.append([c.label for c in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append(list(row))
        for cell, column in zip(ws[ws.max_row], table.columns, strict=True):
            if column.kind == "date" and cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
            elif column.kind == "percent" and cell.value is not None:
                cell.number_format = '0.0"%"'
            elif column.kind == "number" and column.digits is not None:
                cell.number_format = "0." + "0" * column.digits if column.digits else "0"
            elif column.kind == "number" and isinstance(cell.value, float):
                cell.number_format = "0.0"
    for n, column in enumerate(table.columns):
        ws.column_dimensions[chr(ord("A") + n)].width = max(12, 2 * len(column.label) + 2)
    if subtitle:
        ws.append([])
        ws.append([subtitle])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
