"""Give the demo city a year of outage history, then its alerts and daily reliability figures.

The history goes through the outage services (interruptions, restorations, closing), as the
pool records it in production. Historical outages were handled long ago, so while they are
written the outages app's event subscribers (work orders, notifications, the public map) are
held back; this command then runs the frequent-outage scan and computes every day's figures
itself. A few transformers get frequent outages and a few get recent ones (warnings); the
rest of the year is a random background of faults and planned work. Idempotent: when the
history exists (its timeline names this command), only the scan and the figures run again.
Run after ``seed_demo`` and ``seed_demo_outages``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from grids.models import Device, ServicePoint
from outages import events
from outages.models import Outage, OutageEvent, OutageType
from outages.services import outage_create, outage_restore, outage_transition
from reliability import services

DEMO_LABEL = "seed_demo_reliability"
FAULT_TYPES = ("fault_transformer", "fault_lv_line", "fault_mv_feeder")
PLANNED_TYPE = "planned_maintenance"


@contextmanager
def events_held_back() -> Iterator[None]:
    """Unsubscribe every outage-event handler for the duration, then put them back."""
    saved = {name: events.subscribers(name) for name in events.EVENTS}
    for name, handlers in saved.items():
        for handler in handlers:
            events.unsubscribe(name, handler)
    try:
        yield
    finally:
        for name, handlers in saved.items():
            for handler in handlers:
                events.subscribe(name, handler)


class Command(BaseCommand):
    help = (
        "Give the demo city a year of outage history (a few frequent and warning customers), "
        "run the frequent-outage scan and compute the daily reliability figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--background", type=int, default=120, help="Background outages.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        if not ServicePoint.objects.exists():
            self.stderr.write("No service points: run seed_demo first.")
            return
        if not OutageEvent.objects.filter(actor_label=DEMO_LABEL).exists():
            rng = random.Random(options["seed"])
            with events_held_back():
                made = self._history(rng, options["background"])
            self.stdout.write(f"Outage history: {made} past outages.")
        today = timezone.localdate()
        days = [today - timedelta(days=n) for n in range(365, 0, -1)]
        rows = services.reliability_days_compute(days=days)
        self.stdout.write(f"Daily reliability figures: {rows} rows for {len(days)} days.")
        summary = services.frequent_outage_scan_now()
        self.stdout.write(f"Frequent-outage scan: {summary}")

    # --- history -------------------------------------------------------------------------

    def _history(self, rng: random.Random, background: int) -> int:
        transformers = list(
            Device.objects.filter(kind=Device.Kind.TRANSFORMER)
            .annotate(n=Count("service_points"))
            .filter(n__gte=1)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(transformers) < 12:
            self.stderr.write("Too few transformers for the demo history.")
            return 0
        rng.shuffle(transformers)
        frequent, warning, rest = transformers[:4], transformers[4:10], transformers[10:]
        made = 0
        for pk in frequent:  # 4 faults within 60 days, the last a fortnight ago
            for days_ago in (70, 52, 33, 14):
                made += self._outage(pk, days_ago, rng, FAULT_TYPES[0])
        for pk in warning:  # two in the last 30 days
            for days_ago in (27, 6):
                made += self._outage(pk, days_ago, rng, FAULT_TYPES[1])
        for _ in range(background):
            pk = rng.choice(rest)
            kind = PLANNED_TYPE if rng.random() < 0.3 else rng.choice(FAULT_TYPES)
            made += self._outage(pk, rng.randint(1, 364), rng, kind)
        return made

    def _outage(self, device_id: int, days_ago: int, rng: random.Random, type_code: str) -> int:
        day = timezone.localdate() - timedelta(days=days_ago)
        hour = rng.randint(7, 20) if type_code == PLANNED_TYPE else rng.randint(0, 23)
        start = timezone.make_aware(datetime.combine(day, time(hour, rng.randint(0, 59))))
        minutes = rng.randint(180, 480) if type_code == PLANNED_TYPE else rng.randint(12, 240)
        end = start + timedelta(minutes=minutes)
        if end >= timezone.now():
            return 0
        with transaction.atomic():
            outage = outage_create(
                type=OutageType.objects.get(code=type_code),
                device=Device.objects.get(pk=device_id),
                source=Outage.Source.PLANNED
                if type_code == PLANNED_TYPE
                else Outage.Source.DISPATCHER,
                actor=None,
                actor_label=DEMO_LABEL,
                status=Outage.Status.CONFIRMED,
                started_at=start,
                description="历史停电（演示数据）",
            )
            outage = outage_restore(outage=outage, actor=None, at=end, actor_label=DEMO_LABEL)
            outage_transition(
                outage=outage, to=Outage.Status.CLOSED, actor=None, at=end, actor_label=DEMO_LABEL
            )
        return 1
