"""Agent points: which recorded calls earn an automatic award, and rankings. No ORM.

Items come in three classes (quality, efficiency, attitude). Automatic items name the event
they follow (``rule``): a first-call resolution, a call handled under the item's target
seconds. Other items (a complaint avoided, a caller's praise, an error found by quality
review) are awarded by hand with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from dashboard.aggregate import REPEAT_WINDOW, CallRecord

RULE_FIRST_CALL = "first_call_resolution"
RULE_FAST_HANDLING = "handling_under_target"


@dataclass(frozen=True)
class ItemRule:
    item_id: int
    rule: str
    points: int
    target: int | None  # seconds, for RULE_FAST_HANDLING


@dataclass(frozen=True)
class AutoAward:
    item_id: int
    agent_id: int
    call_id: int
    points: int

    @property
    def source_key(self) -> str:
        """Identifies the award so that computing a day twice awards it once."""
        return f"item{self.item_id}:call{self.call_id}"


def awards_for_calls(
    calls: Iterable[CallRecord], rules: Iterable[ItemRule], later: Iterable[CallRecord] = ()
) -> list[AutoAward]:
    """The automatic awards earned by ``calls`` (``later``: the following day's calls, to see
    a repeat call within 24 hours)."""
    calls = list(calls)
    rules = list(rules)
    by_caller: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for c in (*calls, *later):
        if c.outage_id is not None and c.caller_phone:
            by_caller[(c.caller_phone, c.outage_id)].append(c.at)
    awards: list[AutoAward] = []
    for c in calls:
        if c.agent_id is None:
            continue
        for rule in rules:
            earned = False
            if rule.rule == RULE_FIRST_CALL and c.outage_id is not None and c.caller_phone:
                times = by_caller[(c.caller_phone, c.outage_id)]
                earned = not any(c.at < t <= c.at + REPEAT_WINDOW for t in times)
            elif rule.rule == RULE_FAST_HANDLING and rule.target is not None:
                earned = c.handling_seconds is not None and c.handling_seconds <= rule.target
            if earned:
                awards.append(AutoAward(rule.item_id, c.agent_id, c.id, rule.points))
    return awards


@dataclass(frozen=True)
class RankRow:
    rank: int
    agent_id: int
    points: int


def rank(totals: dict[int, int], limit: int | None = None) -> list[RankRow]:
    """Agents by points, highest first; equal points share a rank (1, 2, 2, 4)."""
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    rows: list[RankRow] = []
    for n, (agent_id, points) in enumerate(ordered):
        shared = rows and rows[-1].points == points
        rows.append(RankRow(rows[-1].rank if shared else n + 1, agent_id, points))
    return rows[:limit] if limit is not None else rows
