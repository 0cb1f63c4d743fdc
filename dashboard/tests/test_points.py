"""Agent points: automatic awards from recorded calls (once only), manual awards with a
reason, weekly ranking, monthly top list, the running total."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from dashboard import points, selectors, services
from dashboard.aggregate import CallRecord
from dashboard.models import PointAward, PointItem
from dashboard.tests.conftest import DAY
from dispatch_center.core.exceptions import DomainError

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 10, 9, tzinfo=TZ)


def test_awards_for_calls_pure():
    rules = [
        points.ItemRule(1, points.RULE_FIRST_CALL, 2, None),
        points.ItemRule(2, points.RULE_FAST_HANDLING, 1, 120),
    ]
    calls = [
        CallRecord(1, T0, 7, "X", 5, 100, None, None),  # repeated later: no FCR; fast
        CallRecord(2, T0 + timedelta(hours=3), 8, "X", 5, 300, None, None),  # FCR; slow
        CallRecord(3, T0, None, "Z", 5, 10, None, None),  # no agent: nothing
    ]
    awards = points.awards_for_calls(calls, rules)
    assert {(a.item_id, a.agent_id, a.call_id) for a in awards} == {(2, 7, 1), (1, 8, 2)}


def test_rank_shares_places():
    rows = points.rank({1: 10, 2: 7, 3: 7, 4: 1})
    assert [(r.rank, r.agent_id) for r in rows] == [(1, 1), (2, 2), (2, 3), (4, 4)]


@pytest.mark.django_db
def test_automatic_awards_once_and_rankings(history):
    # given: the default items (first-call resolution 2, handling under 180 s 1)
    assert PointItem.objects.filter(code="first_call_resolution").exists()
    # when: the day is awarded twice
    services.points_award_from_calls(first=DAY, last=DAY)
    services.points_award_from_calls(first=DAY, last=DAY)
    # then: X's first call (repeated) earns only the handling point, X's second and Y's
    # first-call points, all three handled under 180 s except the 200 s call
    assert PointAward.objects.count() == 4
    week = selectors.points_weekly_ranking(day=DAY)
    assert [(r.agent_id, r.points) for r in week] == [(history.agent.pk, 2 + 2 + 1 + 1)]
    assert selectors.points_weekly_ranking(day=DAY + timedelta(days=7)) == []
    assert selectors.points_monthly_top(day=DAY)[0].points == 6


@pytest.mark.django_db
def test_manual_award_needs_a_reason_and_adds_to_the_running_total(supervisor):
    agent = User.objects.create_user("agent9")
    praise = PointItem.objects.get(code="caller_praise")
    with pytest.raises(DomainError):
        services.points_award_manual(agent=agent, item=praise, reason=" ", awarded_by=supervisor)
    services.points_award_manual(
        agent=agent, item=praise, reason="客户来电表扬", awarded_by=supervisor
    )
    error = PointItem.objects.get(code="quality_review_error")
    services.points_award_manual(agent=agent, item=error, reason="质检差错", awarded_by=supervisor)
    total = selectors.points_ranking()
    assert [(r.agent_id, r.points) for r in total] == [(agent.pk, 3 - 5)]


@pytest.mark.django_db
def test_default_items_are_named_in_english_on_english_pages():
    from django.utils import translation

    from dashboard.models import PointItem

    item = PointItem.objects.get(code="caller_praise")
    assert str(item) == "客户表扬 (+3)"
    with translation.override("en"):
        assert str(item) == "Caller's praise (+3)"
    assert not PointItem.objects.filter(name_en="").exists()
