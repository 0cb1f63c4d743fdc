"""Timestamps as the APIs and feeds send them (``iso``) and as the pages show them (``when``)."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import get_language

# English month abbreviations, fixed here so a page never depends on the C library's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def iso(value: datetime | None, *, local: bool = True) -> str | None:
    """ISO 8601 text of an aware ``value`` (None stays None): in the local time zone
    (Asia/Shanghai, ``+08:00``), or with ``local=False`` in the zone it carries."""
    if value is None:
        return None
    return (timezone.localtime(value) if local else value).isoformat()


def when(
    value: datetime | date | None, *, with_time: bool = True, language: str | None = None
) -> str:
    """A date (and time) that no reader can misread: the month is a word or carries 月, never
    a bare number beside the day ("12-05" is 5 December or 12 May). Chinese "12月5日 18:30",
    English "5 Dec 18:30"; the year is added when it is not the current one. Aware datetimes
    are shown in local time (Asia/Shanghai). None gives "".
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        day: date = value.date()
    else:
        day, with_time = value, False
    english = (language or get_language() or "").lower().startswith("en")
    this_year = day.year == timezone.localdate().year
    if english:
        text = f"{day.day} {_MONTHS[day.month - 1]}" + ("" if this_year else f" {day.year}")
    else:
        text = ("" if this_year else f"{day.year}年") + f"{day.month}月{day.day}日"
    if with_time and isinstance(value, datetime):
        text += f" {value:%H:%M}"
    return text
