"""The bulletin as CSV and Excel (openpyxl): one table of (section, item, value) rows, the
same rows in both formats so a spreadsheet and a script read the same thing."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils.translation import gettext as _


def bulletin_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Flatten the bulletin's figures into (section, item, value) rows."""
    rows: list[tuple[str, str, str]] = [
        (_("期间"), _("起"), data["from"]),
        (_("期间"), _("止"), data["to"]),
        (_("总体"), _("投诉总数"), str(data["total"])),
        (_("总体"), _("已办结"), str(data["closed"])),
        (_("总体"), _("超期"), str(data["overdue"])),
        (_("总体"), _("重复投诉"), str(data["repeat"])),
    ]
    for section, key, label in (
        (_("按分类"), "by_category", "name"),
        (_("按行政区"), "by_district", "name"),
        (_("按网格"), "by_grid", "name"),
        (_("按责任环节"), "by_step", "name"),
        (_("同类客户修复"), "remedy_outcomes", "name"),
    ):
        rows += [(section, str(r[label]), str(r["count"])) for r in data[key]]
    rows += [
        (_("发现流程缺陷"), f"{d['owner']}: {d['description']}", d["status"])
        for d in data["defects_found"]
    ]
    rows += [
        (_("完成改进"), f"{d['owner']}: {d['improvement']}", d["step"])
        for d in data["improvements_done"]
    ]
    return rows


def bulletin_csv(data: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_("项目"), _("内容"), _("数值")])
    writer.writerows(bulletin_rows(data))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def bulletin_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("投诉通报")
    ws.append([_("项目"), _("内容"), _("数值")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for section, item, value in bulletin_rows(data):
        ws.append([section, item, int(value) if value.isdigit() else value])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 48
    ws.column_dimensions["C"].width = 14
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
