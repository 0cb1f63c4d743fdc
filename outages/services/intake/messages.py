"""What the caller is told about a report, in the active language."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.i18n import is_english, pick_name
from outages.models import TroubleReport

from .inputs import Status


def report_message(report: TroubleReport) -> str:
    """The answer to the caller in the active language (Chinese, or English for ``en``)."""
    outage = report.outage
    parts: list[str] = []
    if report.status in (Status.MERGED, Status.PREDICTED) and outage is not None:
        if report.status == Status.MERGED:
            parts.append(_("您所在区域的停电已在处理中，无需重复报修。"))
        else:
            parts.append(_("已根据您的报修生成停电事件，抢修人员将尽快处理。"))
        if outage.cause is not None:
            cause = pick_name(outage.cause.name, outage.cause.name_en)
            parts.append(_("停电原因：%(cause)s。") % {"cause": cause})
        else:
            parts.append(_("停电原因正在查明。"))
        parts.append(_("当前状态：%(status)s。") % {"status": outage.get_status_display()})
        if outage.etr is not None:
            parts.append(_("预计 %(etr)s 恢复供电。") % {"etr": _local_time(outage.etr)})
        else:
            parts.append(_("预计恢复时间正在评估。"))
    elif report.status == Status.NEEDS_RESOLUTION:
        parts.append(
            _("报修已受理，但暂时无法根据您提供的信息确定用电地址，客服人员将尽快与您联系核实。")
        )
    elif report.status == Status.SINGLE_PREMISE:
        parts.append(_("您所在区域未发现其他停电，我们将安排抢修人员上门检查。"))
    elif report.status == Status.CLOSED:
        parts.append(_("该报修已处理完毕。"))
    else:
        parts.append(_("报修已受理，我们正在核实您所在区域的供电情况。"))
    parts.append(_("报修编号：%(reference)s。") % {"reference": report.reference})
    if report.is_danger:
        parts.append(_("请远离断落的电线或冒火花的设备至少 10 米，切勿触碰，我们已安排紧急处理。"))
    separator = " " if is_english() else ""
    return separator.join(str(p) for p in parts)


def _local_time(value: datetime) -> str:
    local = timezone.localtime(value)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{local:%m-%d %H:%M}"
