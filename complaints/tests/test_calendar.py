"""Working-day deadlines across a public holiday and a make-up working day."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from complaints.calendar import WorkCalendar, contact_due, reply_due

SH = ZoneInfo("Asia/Shanghai")
# National Day 2026: 1–7 October off, Saturday 10 October worked.
NATIONAL_DAY = WorkCalendar(
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
)


def test_plain_week_skips_the_weekend():
    cal = WorkCalendar()
    # Friday 4 December 2026 + 5 working days = Friday 11 December.
    assert cal.add_working_days(date(2026, 12, 4), 5) == date(2026, 12, 11)


def test_reply_due_across_a_holiday_and_a_make_up_day():
    received = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    # 8 Oct (Thu) 1, 9 Oct (Fri) 2, 10 Oct (make-up Sat) 3, 12 Oct (Mon) 4, 13 Oct (Tue) 5.
    assert reply_due(received, 5, NATIONAL_DAY) == datetime.combine(
        date(2026, 10, 13), time(23, 59, 59), tzinfo=SH
    )
    # Without the make-up day the deadline would be one working day later.
    no_makeup = WorkCalendar(holidays=NATIONAL_DAY.holidays)
    assert reply_due(received, 5, no_makeup).date() == date(2026, 10, 14)


def test_make_up_saturday_is_a_working_day_and_holiday_weekday_is_not():
    assert NATIONAL_DAY.is_working_day(date(2026, 10, 10))
    assert not NATIONAL_DAY.is_working_day(date(2026, 10, 5))  # a Monday
    assert not NATIONAL_DAY.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert NATIONAL_DAY.working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5


def test_received_on_a_holiday_counts_from_the_next_working_day():
    received = datetime(2026, 10, 3, 22, 0, tzinfo=SH)
    assert reply_due(received, 1, NATIONAL_DAY).date() == date(2026, 10, 8)


def test_contact_due_is_clock_hours():
    received = datetime(2026, 10, 3, 22, 0, tzinfo=SH)
    assert contact_due(received, 24) == datetime(2026, 10, 4, 22, 0, tzinfo=SH)


def test_zero_days_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        WorkCalendar().add_working_days(date(2026, 1, 5), 0)


@pytest.mark.django_db
def test_service_deadlines_use_the_calendar_entered_by_migration():
    from complaints.models import CalendarDay, ComplaintCategory
    from complaints.services import complaint_deadlines

    # Given the migration's 2026 calendar (National Day off, 10 October worked)
    assert CalendarDay.objects.get(date=date(2026, 10, 10)).kind == CalendarDay.Kind.WORKDAY
    category = ComplaintCategory.objects.get(code="outage_long")
    # When a complaint of a sub-category without its own deadlines arrives on 30 September
    contact, reply = complaint_deadlines(
        category=category, received_at=datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    )
    # Then it takes its parent's (24 h, 5 working days) over the holiday and the make-up day
    assert contact == datetime(2026, 10, 1, 10, 0, tzinfo=SH)
    assert reply.astimezone(SH) == datetime(2026, 10, 13, 23, 59, 59, tzinfo=SH)


@pytest.mark.django_db
def test_admin_edits_to_the_calendar_move_the_deadline():
    from complaints.models import CalendarDay, ComplaintCategory
    from complaints.services import complaint_deadlines

    category = ComplaintCategory.objects.get(code="outage_long")
    received = datetime(2026, 12, 7, 9, 0, tzinfo=SH)  # a Monday
    _, before = complaint_deadlines(category=category, received_at=received)
    CalendarDay.objects.create(date=date(2026, 12, 9), kind=CalendarDay.Kind.HOLIDAY, name="x")
    _, after = complaint_deadlines(category=category, received_at=received)
    assert before.astimezone(SH).date() == date(2026, 12, 14)
    assert after.astimezone(SH).date() == date(2026, 12, 15)
