"""Put a few dozen complaints on the demo city, tied to the demo outages, in every state.

Everything goes through the complaint services (deadlines, links, flags, transitions, trace,
accountability, remedy list, defects), as in production. Idempotent: when complaints exist
already nothing is created. Run after ``seed_demo_outages``.
"""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints import selectors, services
from complaints.models import Complaint, ComplaintCategory
from grids.models import ServicePoint
from outages.models import Interruption

TEXTS = {
    "outage_long": "停电好几个小时了，到现在还没来电。",
    "outage_frequent": "这个月已经停了好几次电，严重影响生活。",
    "outage_restore_slow": "报修很久了，抢修人员迟迟不到。",
    "repair_late": "说好四十五分钟到，两个小时还没见人。",
    "info_etr": "说两点来电，到五点还没来，信息不准。",
    "info_notice": "停电前没有收到任何通知。",
    "pq_low_voltage": "晚上电压低，空调启动不了。",
    "conduct_attitude": "抢修人员态度差，不解释原因。",
    "billing_amount": "这个月电费比平时高很多。",
}
# How many complaints end in each state.
PLAN = [
    ("registered", 8),
    ("contacted", 6),
    ("investigating", 6),
    ("replied", 5),
    ("closed", 8),
    ("reopened", 3),
]


class Command(BaseCommand):
    help = "Seed demo complaints tied to the demo outages (run after seed_demo_outages)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=12)

    def handle(self, *args: Any, **options: Any) -> None:
        if not ServicePoint.objects.exists():
            self.stderr.write("No service points: run `manage.py seed_demo` first.")
            sys.exit(2)
        if Complaint.objects.exists():
            self.stdout.write("Complaints already exist; nothing created.")
            return
        rng = random.Random(options["seed"])
        made = self._seed(rng)
        self.stdout.write(f"Demo complaints created: {made}")

    def _customers(self, rng: random.Random, n: int) -> list[ServicePoint]:
        """Customers of the demo outages first (they have reasons to complain), then others."""
        interrupted = list(
            Interruption.objects.order_by("outage_id", "service_point_id")
            .values_list("service_point_id", flat=True)
            .distinct()[:2000]
        )
        rng.shuffle(interrupted)
        ids = interrupted[: int(n * 0.8)]
        others = list(
            ServicePoint.objects.exclude(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        rng.shuffle(others)
        ids += others[: n - len(ids)]
        by_id = ServicePoint.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]

    def _seed(self, rng: random.Random) -> int:
        total = sum(n for _, n in PLAN)
        customers = self._customers(rng, total)
        codes = [c for c in TEXTS if ComplaintCategory.objects.filter(code=c).exists()]
        now = timezone.now()
        made = 0
        plan = [state for state, n in PLAN for _ in range(n)]
        for k, (state, sp) in enumerate(zip(plan, customers, strict=False)):
            code = codes[k % len(codes)]
            # Older complaints further along; a few registered ones are overdue already.
            age = {
                "registered": rng.choice([1, 3, 30]),
                "contacted": rng.choice([6, 26, 50]),
                "investigating": rng.choice([20, 60, 130]),
                "replied": rng.choice([40, 90]),
                "closed": rng.choice([60, 120, 200]),
                "reopened": 150,
            }[state]
            c = services.complaint_create(
                category_code=code,
                channel=rng.choice(["hotline", "hotline", "web", "wechat", "app"]),
                text=TEXTS[code],
                phone=sp.phone,
                service_point_id=sp.pk,
                received_at=now - timedelta(hours=age),
            )
            self._advance(c, state, rng)
            made += 1
            # A repeat complaint from a few of the same customers.
            if k % 9 == 0:
                services.complaint_create(
                    category_code=code,
                    channel="hotline",
                    text="再次投诉：" + TEXTS[code],
                    phone=sp.phone,
                    service_point_id=sp.pk,
                )
                made += 1
        services.complaint_create(
            category_code="outage_frequent",
            channel="public_opinion",
            text="本地论坛网帖：小区一周内停电三次，居民不满。",
            area="福田区华强北片区",
        )
        return made + 1

    def _advance(self, c: Complaint, state: str, rng: random.Random) -> None:
        order = ["contacted", "investigating", "replied", "closed", "reopened"]
        if state == "registered":
            return
        steps = order[: order.index(state) + 1]
        for to in steps:
            c = selectors.complaint_get(complaint_id=c.pk)
            if to == "closed":
                trace = services.complaint_trace_suggest(complaint=c)
                services.complaint_trace_confirm(
                    complaint=c, step=trace.step or "none", finding="调查核实后确认"
                )
                shared = rng.random() < 0.4
                services.complaint_accountability_set(
                    complaint=c,
                    nature="shared" if shared else "individual",
                    unit="供电所",
                    person="" if shared else "抢修班长",
                    manager="所长" if shared else "",
                    outcome=rng.choice(["reminder", "criticism", "deduction", "no_fault"]),
                )
                if rng.random() < 0.5:
                    matches = selectors.complaint_similar_customers(
                        complaint=c, radius=1.0, limit=8
                    )
                    services.complaint_remedy_list_save(complaint=c, matches=matches)
                    for contact in c.remedies.all()[:4]:
                        services.remedy_contact_record(
                            contact_id=contact.pk,
                            outcome=rng.choice(["satisfied", "issue_found", "unreachable"]),
                        )
                if rng.random() < 0.4:
                    defect = services.process_defect_create(
                        complaint=c,
                        step=trace.step if trace.step != "none" else "information",
                        description="预计复电时间未随抢修进展更新",
                        owner="调度班",
                    )
                    if rng.random() < 0.5:
                        services.process_defect_update(
                            defect_id=defect.pk, status="done", improvement="每小时复核ETR"
                        )
                c = selectors.complaint_get(complaint_id=c.pk)
            services.complaint_transition(
                complaint=c,
                to=to,
                reason="",
                reply="已核实情况并向客户说明。" if to == "replied" else "",
            )
