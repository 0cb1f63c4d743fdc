"""Working-day arithmetic (pure, no ORM).

A day is a working day when it is a make-up working day (调休上班), or a Monday–Friday that
is not a public holiday. The reply deadline of ``n`` working days counts from the day after
receipt and ends at the close of the ``n``-th working day (a complaint received on a holiday
or a weekend starts counting on the next working day all the same).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class WorkCalendar:
    """The exceptions to the Monday–Friday week."""

    holidays: Collection[date] = field(default_factory=frozenset)
    workdays: Collection[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself never counts); ``n`` ≥ 1."""
        if n < 1:
            raise ValueError("n must be at least 1")
        day = start
        counted = 0
        # A year has far fewer than 60 consecutive days off; the bound guards bad data.
        for _ in range(n * 7 + 60):
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
                if counted == n:
                    return day
        raise ValueError("no working day found; check the calendar")

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``."""
        days = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days += 1
        return days


def reply_due(received_at: datetime, working_days: int, calendar: WorkCalendar) -> datetime:
    """The end (23:59:59) of the ``working_days``-th working day after ``received_at``'s local
    date, in ``received_at``'s time zone."""
    tz: tzinfo | None = received_at.tzinfo
    day = calendar.add_working_days(received_at.date(), working_days)
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


def contact_due(received_at: datetime, hours: int) -> datetime:
    """First contact is due ``hours`` clock hours after receipt (a 24-hour service)."""
    return received_at + timedelta(hours=hours)
