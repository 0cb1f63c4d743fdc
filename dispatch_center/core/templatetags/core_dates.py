"""Template filters for dates: ``{{ value|when }}`` and ``{{ value|when_date }}`` (see
``dispatch_center.core.dates.when``: unambiguous in Chinese and in English)."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from dispatch_center.core import dates

register = template.Library()


@register.filter(name="when")
def when(value: datetime | date | None) -> str:
    """Date and time, e.g. "12月5日 18:30" / "5 Dec 18:30"."""
    return dates.when(value)


@register.filter(name="when_date")
def when_date(value: datetime | date | None) -> str:
    """Date only, e.g. "12月5日" / "5 Dec"."""
    return dates.when(value, with_time=False)
