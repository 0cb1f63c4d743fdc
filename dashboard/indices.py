"""Reliability indices and frequent-outage counts as the dashboard shows them: definitions,
units and values from stored totals. No ORM; the arithmetic is ``reliability.indices``.

The indices of an area over a period follow from additive totals (customer interruptions,
customer minutes, momentary interruptions) and the customers served (N):
SAIFI = CI / N, SAIDI = CMI / N, CAIDI = SAIDI / SAIFI, MAIFI = MI / N,
ASAI = 1 - (CMI / 60) / (N x hours of the period), shown as a percentage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reliability import indices


@dataclass(frozen=True)
class IndexDef:
    key: str
    label: str | Promise
    unit: str | Promise
    digits: int
    definition: str | Promise


_SCOPE = _(
    "按停电开始日归属，由每日存储的可靠性合计（全部停电，含计划与故障）按所选周期和范围"
    "相加后计算；持续时间超过短时停电门限（默认 5 分钟）的为持续停电。"
)

INDEXES: tuple[IndexDef, ...] = (
    IndexDef(
        "SAIFI",
        _("系统平均停电频率 SAIFI"),
        _("次/户"),
        4,
        _("持续停电用户次数之和除以服务用户总数：平均每户停电几次。"),
    ),
    IndexDef(
        "SAIDI",
        _("系统平均停电时间 SAIDI"),
        _("分钟/户"),
        2,
        _("持续停电用户停电分钟数之和除以服务用户总数：平均每户停电多少分钟。"),
    ),
    IndexDef(
        "CAIDI",
        _("用户平均停电持续时间 CAIDI"),
        _("分钟/次"),
        1,
        _("SAIDI 除以 SAIFI：每次停电平均持续多少分钟；没有持续停电时无值。"),
    ),
    IndexDef(
        "MAIFI",
        _("短时停电频率 MAIFI"),
        _("次/户"),
        4,
        _("短时停电（不超过门限）用户次数之和除以服务用户总数。"),
    ),
    IndexDef(
        "ASAI",
        _("平均供电可用率 ASAI"),
        _("%"),
        4,
        _("1 减去用户停电小时数之和除以（服务用户总数 × 期间小时数），以百分比表示。"),
    ),
)
INDEX_BY_KEY = {d.key: d for d in INDEXES}
SCOPE_NOTE = _SCOPE

FREQUENT_LEVELS: dict[str, str | Promise] = {
    "warning": _("预警"),
    "frequent": _("频繁停电"),
}
FREQUENT_UNIT = _("户")
FREQUENT_NEW = _("本期新增")
FREQUENT_OPEN = _("当前未关闭")
FREQUENT_DEFINITION = _(
    "频繁停电预警与频繁停电用户：本期新增为告警首次产生在所选周期内的用户数，当前未关闭为"
    "现在仍未关闭的告警用户数，按用户所在行政区、网格统计；判定规则见频繁停电策略。"
)
TOTAL_LABEL = pgettext_lazy("frequent outages", "合计")


@dataclass(frozen=True)
class AreaIndices:
    SAIFI: float
    SAIDI: float
    CAIDI: float | None
    MAIFI: float
    ASAI: float | None  # percent

    def values(self) -> list[float | None]:
        return [getattr(self, d.key) for d in INDEXES]


def area_indices(totals: Mapping[str, Any] | None, *, hours: float) -> AreaIndices:
    """The indices of one area from its summed totals (``None``: no interruption stored in
    the period, so every frequency and duration is 0 and the supply was fully available)."""
    if not totals or not totals.get("customers_served"):
        return AreaIndices(0.0, 0.0, None, 0.0, 100.0 if hours > 0 else None)
    got = indices.from_totals(
        indices.Totals(
            int(totals["customer_interruptions"]),
            float(totals["customer_minutes"]),
            int(totals["momentary_interruptions"]),
        ),
        customers_served=int(totals["customers_served"]),
        period_hours=hours or None,
    )
    digits = {d.key: d.digits for d in INDEXES}

    def r(key: str, value: float | None) -> float | None:
        return None if value is None else round(value, digits[key])

    return AreaIndices(
        SAIFI=round(got.SAIFI, digits["SAIFI"]),
        SAIDI=round(got.SAIDI, digits["SAIDI"]),
        CAIDI=r("CAIDI", got.CAIDI),
        MAIFI=round(got.MAIFI, digits["MAIFI"]),
        ASAI=r("ASAI", None if got.ASAI is None else 100.0 * got.ASAI),
    )


def frequent_rows(counts: Mapping[str, Mapping[str, int]]) -> list[tuple[str, int, int]]:
    """(level label, new in period, open now) per level, both levels listed, and the total."""
    rows = [
        (str(label), counts.get(level, {}).get("new", 0), counts.get(level, {}).get("open", 0))
        for level, label in FREQUENT_LEVELS.items()
    ]
    rows.append((str(TOTAL_LABEL), sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return rows
