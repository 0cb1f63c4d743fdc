"""Reporting periods (week, month, year) and the period before each. No ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Kind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` inclusive."""

    kind: Kind
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        if self.kind is Kind.YEAR:
            return f"{self.start:%Y}"
        if self.kind is Kind.MONTH:
            return f"{self.start:%Y-%m}"
        iso = self.start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"


def period_containing(kind: Kind, day: date) -> Period:
    """The calendar week (Monday first), month or year that contains ``day``."""
    if kind is Kind.WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind is Kind.MONTH:
        start = day.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Period(kind, start, following - timedelta(days=1))
    return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31))


def period_before(period: Period) -> Period:
    """The period of the same kind just before ``period``."""
    return period_containing(period.kind, period.start - timedelta(days=1))


def period_days(period: Period) -> list[date]:
    return [period.start + timedelta(days=n) for n in range(period.days)]
