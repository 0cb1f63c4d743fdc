"""The dashboard's figures: one definition each (key, label, unit, how stored rows combine,
the written definition shown on hover and in the data dictionary). No ORM.

Every figure is stored per day and scope as a pair (``total``, ``count``) so that any set of
rows combines exactly: a count or a sum is ``sum(total)``, a mean or a share is
``sum(total) / sum(count)``. A share is stored as (hits, cases), a mean as (sum, n).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Combine(StrEnum):
    SUM = "sum"  # a count or a total: sum(total)
    MEAN = "mean"  # sum(total) / sum(count)
    SHARE = "share"  # sum(total) / sum(count), shown as a percentage


class Better(StrEnum):
    LOWER = "lower"
    HIGHER = "higher"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Figure:
    key: str
    section: str
    label: str | Promise
    unit: str | Promise
    combine: Combine
    better: Better
    definition: str | Promise
    # scale applied to the stored mean before display (seconds stored, minutes shown)
    scale: float = 1.0
    # A figure stored split by a dimension (priority, station, type) beside the figure it
    # splits: same definition, not a headline, not listed again in the dictionary.
    split_of: str = ""


REPAIR, CALLS, POOL, OUTAGES, COMPLAINTS = "repair", "calls", "pool", "outages", "complaints"

SECTIONS: dict[str, str | Promise] = {
    REPAIR: _("抢修"),
    CALLS: _("报修与热线"),
    POOL: _("抢单池"),
    OUTAGES: _("停电"),
    COMPLAINTS: _("投诉"),
}

MIN = _("分钟")
PCT = _("%")
# Units of counts, as a Chinese report writes them: orders 张, occurrences 次, reports and
# complaints 件, outage events 起, customers 户.
ORDERS_UNIT = pgettext_lazy("unit", "张")
TIMES_UNIT = pgettext_lazy("unit", "次")
ITEMS_UNIT = pgettext_lazy("unit", "件")
EVENTS_UNIT = pgettext_lazy("unit", "起")
CUSTOMERS_UNIT = _("户")

_ORDER_SCOPE = _(
    "统计抢修类工单（停电抢修、单户抢修、危险处置），按工单创建日归属，按工单所在网格、"
    "行政区和接单班组统计。"
)

FIGURES: tuple[Figure, ...] = (
    Figure(
        "orders",
        REPAIR,
        _("抢修工单数"),
        ORDERS_UNIT,
        Combine.SUM,
        Better.NEUTRAL,
        _("期间内创建的抢修类工单数。按班组查看即为各班组工单数。"),
    ),
    Figure(
        "dispatch_minutes",
        REPAIR,
        _("平均派单时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        format_lazy(
            "{} {}", _("从工单创建到派给班组（直接派单或被抢单）的平均时长。"), _ORDER_SCOPE
        ),
        1 / 60,
    ),
    Figure(
        "accept_minutes",
        REPAIR,
        _("平均接单时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        _("从派单到班组接单的平均时长；抢单视为即时接单。"),
        1 / 60,
    ),
    Figure(
        "arrive_minutes",
        REPAIR,
        _("平均到达时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        format_lazy(
            "{} {}", _("从工单创建到班组到达现场的平均时长，只计已到达的工单。"), _ORDER_SCOPE
        ),
        1 / 60,
    ),
    Figure(
        "restore_minutes",
        REPAIR,
        _("平均复电时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        _("从工单创建到恢复送电的平均时长，只计已复电的工单。"),
        1 / 60,
    ),
    Figure(
        "complete_minutes",
        REPAIR,
        _("平均完工时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        _("从工单创建到完工的平均时长，只计已完工的工单。"),
        1 / 60,
    ),
    Figure(
        "arrive_sla",
        REPAIR,
        _("到达及时率"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("有到达时限的工单中，在时限内到达现场的比例；超过时限仍未到达的计为未及时。"),
    ),
    Figure(
        "restore_sla",
        REPAIR,
        _("复电及时率"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("有复电时限的工单中，在时限内恢复送电的比例；超过时限仍未复电的计为未及时。"),
    ),
    Figure(
        "redispatches",
        REPAIR,
        _("重复派单次数"),
        TIMES_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("一张工单第一次派单之后的每一次派单决策（退回、超时改派、被抽调后重派）计一次。"),
    ),
    Figure(
        "preemptions",
        REPAIR,
        _("班组抽调次数"),
        TIMES_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("班组被更紧急的工单抽调、本工单被中断的次数。"),
    ),
    Figure(
        "cross_grid_share",
        REPAIR,
        _("跨网格派单占比"),
        PCT,
        Combine.SHARE,
        Better.LOWER,
        _("有班组的工单中，班组所属服务站的网格不是工单所在网格的比例。"),
    ),
    Figure(
        "duplicate_dispatch",
        REPAIR,
        _("重复派单率"),
        PCT,
        Combine.SHARE,
        Better.LOWER,
        _("抢修工单中因重复被合并到另一张工单的比例。"),
    ),
    Figure(
        "reports",
        CALLS,
        _("报修数"),
        ITEMS_UNIT,
        Combine.SUM,
        Better.NEUTRAL,
        _("期间内受理的客户报修数（不含调度自动化信号），按受理渠道分列。"),
    ),
    Figure(
        "self_service_share",
        CALLS,
        _("自助报修占比"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("网站、手机应用、微信报修占全部客户报修（含95598热线）的比例。"),
    ),
    Figure(
        "merged_reports",
        CALLS,
        _("并入已知停电的报修"),
        ITEMS_UNIT,
        Combine.SUM,
        Better.NEUTRAL,
        _("研判后合并到一个已知停电事件、没有另派工单的报修数。"),
    ),
    Figure(
        "first_call_resolution",
        CALLS,
        _("一次解决率"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("关于某次停电的来电中，同一来电号码 24 小时内没有再就同一停电来电的比例。"),
    ),
    Figure(
        "handling_seconds",
        CALLS,
        _("平均通话处理时长"),
        _("秒"),
        Combine.MEAN,
        Better.LOWER,
        _("坐席页面从找到来电客户到记录通话的平均时长，只计有测量值的通话；按坐席分列。"),
    ),
    Figure(
        "pool_claim_share",
        POOL,
        _("抢单成功率"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("发布到抢单池的工单中被班组抢到的比例。"),
    ),
    Figure(
        "pool_claim_minutes",
        POOL,
        _("平均抢单时长"),
        MIN,
        Combine.MEAN,
        Better.LOWER,
        _("从发布到抢单池到被抢到的平均时长。"),
        1 / 60,
    ),
    Figure(
        "pool_expired",
        POOL,
        _("抢单超时转派"),
        ORDERS_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("发布到抢单池后无人抢单、转为直接派单的工单数。"),
    ),
    Figure(
        "outages",
        OUTAGES,
        _("停电事件数"),
        EVENTS_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("期间内开始的停电事件数（不含嵌套的子事件），按停电分类分列。"),
    ),
    Figure(
        "customers_affected",
        OUTAGES,
        _("停电用户数"),
        CUSTOMERS_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("期间内开始的停电事件影响的用户数之和。"),
    ),
    Figure(
        "customer_minutes",
        OUTAGES,
        _("停电时户数"),
        _("户·分钟"),
        Combine.SUM,
        Better.LOWER,
        _("每个已恢复停电事件的停电用户数乘以停电时长（分钟）之和。"),
    ),
    Figure(
        "etr_accuracy",
        OUTAGES,
        _("预计复电准确率"),
        PCT,
        Combine.SHARE,
        Better.HIGHER,
        _("已恢复且给出过预计复电时间的停电中，在恢复时显示的预计复电时间之前恢复的比例。"),
    ),
    Figure(
        "complaints",
        COMPLAINTS,
        _("投诉数"),
        ITEMS_UNIT,
        Combine.SUM,
        Better.LOWER,
        _("期间内受理的投诉数，按投诉分类分列。"),
    ),
)


def _split(key: str, of: str, label: str | Promise) -> Figure:
    base = next(f for f in FIGURES if f.key == of)
    return Figure(
        key,
        base.section,
        label,
        base.unit,
        base.combine,
        base.better,
        base.definition,
        base.scale,
        split_of=of,
    )


SPLITS: tuple[Figure, ...] = (
    _split("arrive_sla_priority", "arrive_sla", _("到达及时率（按优先级）")),
    _split("restore_sla_priority", "restore_sla", _("复电及时率（按优先级）")),
    _split("arrive_sla_station", "arrive_sla", _("到达及时率（按服务站）")),
    _split("restore_sla_station", "restore_sla", _("复电及时率（按服务站）")),
    _split("outage_types", "outages", _("停电事件数")),
)
FIGURES = FIGURES + SPLITS

BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}

# Shown as headline cards at the top of the page.
HEADLINE = (
    "orders",
    "arrive_minutes",
    "restore_minutes",
    "arrive_sla",
    "restore_sla",
    "self_service_share",
    "first_call_resolution",
    "handling_seconds",
    "duplicate_dispatch",
    "cross_grid_share",
    "pool_claim_share",
    "outages",
    "customer_minutes",
    "etr_accuracy",
    "complaints",
)


def figure_value(figure: Figure, total: float, count: float) -> float | None:
    """The displayed value of ``figure`` from combined stored sums (None when undefined)."""
    if figure.combine is Combine.SUM:
        return int(total) if float(total).is_integer() else round(total, 1)
    if count == 0:
        return None
    value = total / count
    if figure.combine is Combine.SHARE:
        return round(100.0 * value, 1)
    return round(value * figure.scale, 1)


def change_percent(current: float | None, previous: float | None) -> float | None:
    """Relative change from ``previous`` to ``current`` in percent (None when undefined)."""
    if current is None or previous is None or previous == 0:
        return None
    return round(100.0 * (current - previous) / previous, 1)


def verdict(figure: Figure, change: float | None) -> str:
    """ "better", "worse" or "same" for a change of ``figure`` (for the card's colour)."""
    if change is None or change == 0 or figure.better is Better.NEUTRAL:
        return "same"
    improved = change < 0 if figure.better is Better.LOWER else change > 0
    return "better" if improved else "worse"
