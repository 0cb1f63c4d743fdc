"""Hand-built history for the dashboard's database tests: a district with two grids, a crew
in each, repair orders with their lifecycle timestamps, reports, calls and an outage, all on
fixed days so each stored figure has a known value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction

from dispatch_center.core import roles
from grids.tests.factories import DistrictFactory, GridFactory
from outages.models import CallLog, TroubleReport
from outages.tests.conftest import build_network
from reliability.management.commands.seed_demo_reliability import events_held_back
from reliability.tests.conftest import past_outage
from workorders.models import WorkOrder
from workorders.tests.factories import force_status, make_crew, make_order, reference_data

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)  # a Wednesday; its ISO week is 8–14 June
PREVIOUS_DAY = date(2026, 5, 12)  # in May: the month before


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


@dataclass
class History:
    district: Any
    grid_a: Any
    grid_b: Any
    crew_a: Any
    crew_b: Any
    agent: User
    net: dict[str, Any]


def _order(grid, crew, created: datetime, arrive: int, restore: int) -> WorkOrder:
    o = make_order(grid=grid, kind=WorkOrder.Kind.PREMISE_REPAIR)
    force_status(
        o,
        WorkOrder.Status.CLOSED,
        crew=crew,
        created_at=created,
        dispatched_at=created + timedelta(minutes=5),
        accepted_at=created + timedelta(minutes=6),
        arrived_at=created + timedelta(minutes=arrive),
        restored_at=created + timedelta(minutes=restore),
        completed_at=created + timedelta(minutes=restore + 10),
        arrive_due_at=created + timedelta(minutes=45),
        restore_due_at=created + timedelta(minutes=180),
        closed_at=created + timedelta(minutes=restore + 20),
    )
    return o


def build_history() -> History:
    reference_data()
    district = DistrictFactory(name="福田区")
    grid_a = GridFactory(district=district, name="网格甲")
    grid_b = GridFactory(district=district, name="网格乙")
    crew_a, crew_b = make_crew(grid=grid_a), make_crew(grid=grid_b)
    agent = User.objects.create_user("agent7", password="pass-for-tests-1", first_name="坐席七")
    agent.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    # June 10: grid A two orders arrive in 30 and 50 min (restore 100, 200: one late);
    # grid B one order arrives in 60 (late), by crew A (cross-grid).
    _order(grid_a, crew_a, at(DAY, 9), 30, 100)
    _order(grid_a, crew_a, at(DAY, 11), 50, 200)
    _order(grid_b, crew_a, at(DAY, 14), 60, 120)
    # May 12 (the previous month): one order of grid A arriving in 80 min.
    _order(grid_a, crew_a, at(PREVIOUS_DAY, 10), 80, 150)
    # Reports on June 10: two hotline, one web, one WeChat.
    for n, channel in enumerate(("hotline", "hotline", "web", "wechat")):
        TroubleReport.objects.create(
            reference=f"R-T{n}",
            channel=channel,
            contact_phone=f"1390000000{n}",
            symptom="no_power",
            status="pending",
            received_at=at(DAY, 8 + n),
        )
    # An outage of June 10 (grid of the network), restored after 90 min; calls about it:
    # caller X twice within 24 h, caller Y once.
    net = build_network()
    # History: the other apps' reactions to a new outage (a repair order, notices) are not
    # wanted here, and in transactional tests they would run between create and restore.
    with events_held_back(), transaction.atomic():
        outage = past_outage(net, "T1", at(DAY, 7), 90)
    for n, (phone, hour, secs) in enumerate((("X", 8, 100), ("X", 12, 200), ("Y", 9, 60))):
        CallLog.objects.create(
            kind="enquiry",
            agent=agent,
            caller_phone=phone,
            outage=outage,
            handling_seconds=secs,
            at=at(DAY, hour, n),
        )
    return History(district, grid_a, grid_b, crew_a, crew_b, agent, net)


@pytest.fixture
def history(db) -> History:
    return build_history()
