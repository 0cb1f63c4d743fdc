"""Give the demo city a year of statistics history, then store its daily figures and points.

Writes in bulk the history that ``dashboard.demo_history`` plans (closed repair orders with
their lifecycle timestamps and pool claims, reports by channel, hotline calls with handling
times), as an import of past records: these rows were handled long ago, so no service, event
or task runs for them. Outages come from ``seed_demo_reliability``'s year. Then the figures
of every day are computed and the automatic points awarded, plus a few manual awards.
Idempotent: when the history exists, only the figures and points are computed again.
Run after ``seed_demo``, ``seed_demo_outages`` and ``seed_demo_reliability``.
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import models, transaction
from django.utils import timezone

from dashboard import services
from dashboard.demo_history import GridInfo, Plan, plan_history
from dashboard.models import PointAward, PointItem
from dispatch_center.core import roles
from grids.models import Crew, Grid, ServicePoint
from outages.models import CallLog, Outage, TroubleReport
from workorders.models import WorkOrder

DEMO_LABEL = "seed_demo_statistics"
AGENTS = [("agent", ""), ("agent2", "王芳"), ("agent3", "李娜"), ("agent4", "张伟"),
          ("agent5", "刘洋"), ("agent6", "陈静")]  # fmt: skip


@contextmanager
def explicit_created_at(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk_create keep the given ``created_at`` (history, not rows made now)."""
    fields: list[Any] = [m._meta.get_field("created_at") for m in model_classes]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True


class Command(BaseCommand):
    help = "Give the demo city a year of statistics history (orders, reports, calls, points)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--orders-per-grid-day", type=float, default=0.3)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if not Grid.objects.exists():
            self.stderr.write("No grids: run `manage.py seed_demo` first.")
            sys.exit(2)
        started = time.monotonic()
        today = timezone.localdate()
        first = today - timedelta(days=options["days"])
        if WorkOrder.objects.filter(description=DEMO_LABEL).exists():
            self.stdout.write("Statistics history exists; computing figures again.")
        else:
            agents = self._agents()
            plan = plan_history(
                grids=self._grids(),
                agents=agents,
                outages_by_day=self._outages_by_day(first),
                today=today,
                tz=ZoneInfo(settings.TIME_ZONE),
                days=options["days"],
                orders_per_grid_day=options["orders_per_grid_day"],
                seed=options["seed"],
            )
            self._write(plan, random.Random(options["seed"]))
            self._manual_awards(agents, today)
        rows = services.dashboard_compute_days(first=first, last=today - timedelta(days=1))
        services.points_award_from_calls(first=first, last=today - timedelta(days=1))
        self.stdout.write(
            f"Demo statistics ready in {time.monotonic() - started:.1f} s: {rows} daily rows"
        )

    def _agents(self) -> list[int]:
        group = Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0]
        ids = []
        for username, name in AGENTS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": name}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
            ids.append(user.pk)
        return ids

    def _grids(self) -> list[GridInfo]:
        crews: dict[int, list[int]] = defaultdict(list)
        for pk, grid_id in Crew.objects.order_by("pk").values_list("pk", "station__grid_id"):
            crews[grid_id].append(pk)
        return [
            GridInfo(pk, district_id, tuple(crews[pk]))
            for pk, district_id in Grid.objects.order_by("code").values_list("pk", "district_id")
            if crews[pk]
        ]

    def _outages_by_day(self, first: date) -> dict[date, list[int]]:
        by_day: dict[date, list[int]] = defaultdict(list)
        tz = ZoneInfo(settings.TIME_ZONE)
        for pk, started in Outage.objects.filter(
            started_at__date__gte=first, parent__isnull=True
        ).values_list("pk", "started_at"):
            if started is None:
                continue
            by_day[started.astimezone(tz).date()].append(pk)
        return by_day

    @transaction.atomic
    def _write(self, plan: Plan, rng: random.Random) -> None:
        sps: dict[int, list[int]] = defaultdict(list)
        for pk, grid_id in ServicePoint.objects.values_list("pk", "grid_id").iterator():
            if len(sps[grid_id]) < 200:
                sps[grid_id].append(pk)
        common = {"kind": WorkOrder.Kind.PREMISE_REPAIR, "title": "历史抢修工单",
                  "description": DEMO_LABEL}  # fmt: skip
        with explicit_created_at(WorkOrder, TroubleReport, CallLog):
            orders = WorkOrder.objects.bulk_create(
                [WorkOrder(status=WorkOrder.Status.CLOSED, **common, **row) for row in plan.orders],
                batch_size=2000,
            )
            WorkOrder.objects.bulk_create(
                [
                    WorkOrder(
                        status=WorkOrder.Status.MERGED,
                        merged_into=orders[target],
                        created_at=row["created_at"],
                        grid_id=row["grid_id"],
                        district_id=row["district_id"],
                        **common,
                    )
                    for target, row in plan.duplicates
                ],
                batch_size=2000,
            )
            grid_ids = list(sps)
            reports = []
            for n, row in enumerate(plan.reports):
                grid_sps = sps[rng.choice(grid_ids)] if grid_ids else []
                reports.append(
                    TroubleReport(
                        reference=f"HIST{n:08d}",
                        contact_phone=f"1380000{n % 10000:04d}",
                        symptom=TroubleReport.Symptom.NO_POWER,
                        service_point_id=rng.choice(grid_sps) if grid_sps else None,
                        created_at=row["received_at"],
                        **row,
                    )
                )
            TroubleReport.objects.bulk_create(reports, batch_size=2000)
            CallLog.objects.bulk_create(
                [
                    CallLog(
                        kind=CallLog.Kind.ENQUIRY,
                        note=DEMO_LABEL,
                        created_at=row["at"],
                        service_point_id=rng.choice(sps[rng.choice(grid_ids)])
                        if grid_ids
                        else None,
                        **row,
                    )
                    for row in plan.calls
                ],
                batch_size=2000,
            )
        self.stdout.write(
            f"History: {len(orders) + len(plan.duplicates)} orders, {len(reports)} reports, "
            f"{len(plan.calls)} calls"
        )

    def _manual_awards(self, agents: list[int], today: date) -> None:
        items = {i.code: i for i in PointItem.objects.filter(rule="")}
        awards = [
            (agents[1], "caller_praise", "客户来电表扬：耐心解释停电原因", 20),
            (agents[2], "complaint_avoided", "主动回访，客户撤回投诉", 35),
            (agents[3], "quality_review_error", "质检发现：未告知预计复电时间", 10),
            (agents[1], "complaint_avoided", "协调抢修提前到达，客户满意", 3),
        ]
        supervisor = User.objects.filter(username="supervisor").first()
        now = timezone.now()
        PointAward.objects.bulk_create(
            [
                PointAward(
                    agent_id=agent,
                    item=items[code],
                    points=items[code].points,
                    reason=reason,
                    awarded_by=supervisor,
                    awarded_at=now - timedelta(days=days_ago),
                )
                for agent, code, reason, days_ago in awards
                if code in items
            ]
        )
