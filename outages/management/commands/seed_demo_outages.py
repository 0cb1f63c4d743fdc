"""Put a few realistic outages and calls on the demo city, then publish the map's snapshot.

Everything goes through the outage and intake services (events, interruptions, areas, the
work-orders app's reactions), exactly as in production. Idempotent: when the demo outages
exist already (their timeline names this command as the actor) nothing new is created and
only the snapshot is published again. Run after ``seed_demo``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from grids.models import Device, ServicePoint
from grids.selectors import device_downstream_service_points
from outages.models import Outage, OutageCause, OutageEvent, OutageType, TroubleReport
from outages.publicmap.snapshot import snapshot_publish
from outages.services import (
    outage_create,
    outage_set_etr,
    planned_outage_create,
    planned_outage_publish_notice,
    planned_outage_start,
    report_submit,
)
from outages.services.intake import ReportInput

DEMO_LABEL = "seed_demo_outages"
CANDIDATES_PER_SCENARIO = 40


@dataclass(frozen=True)
class Scenario:
    """One demo outage: where, on what kind of device, how big, and its story."""

    district: str  # grids.geodata district code
    kinds: tuple[str, ...]
    # The most customers among the first candidates is taken: the demo city's size varies.
    min_customers: int
    type: str
    description: str
    status: str = Outage.Status.CONFIRMED
    cause: str | None = None
    etr_minutes: int | None = None
    crew_on_site: bool = False
    reports: int = 0


FAULTS = [
    Scenario(
        district="440304",  # 福田区
        kinds=(Device.Kind.LOAD_BREAK_SWITCH, Device.Kind.BREAKER),
        min_customers=8,
        type="fault_mv_feeder",
        description="10 kV 线路电缆故障，抢修人员正在处理。",
        cause="cable_fault",
        etr_minutes=150,
        crew_on_site=True,
        reports=3,
    ),
    Scenario(
        district="440307",  # 龙岗区
        kinds=(Device.Kind.FUSE, Device.Kind.LOAD_BREAK_SWITCH),
        min_customers=4,
        type="fault_lv_line",
        description="树枝搭接线路引起跳闸。",
        cause="tree_contact",
        etr_minutes=75,
        reports=2,
    ),
    Scenario(
        district="440305",  # 南山区
        kinds=(Device.Kind.TRANSFORMER,),
        min_customers=3,
        type="fault_transformer",
        description="",
        status=Outage.Status.PREDICTED,
        reports=1,
    ),
]


class Command(BaseCommand):
    help = (
        "Create a handful of demo outages (faults in progress, a temporary outage under way, "
        "a planned outage announced) and hotline calls on the demo city through the services, "
        "then publish the public snapshot. Safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not ServicePoint.objects.exists():
            self.stderr.write("No service points: run `manage.py seed_demo` first.")
            sys.exit(2)
        if OutageEvent.objects.filter(actor_label=DEMO_LABEL).exists():
            self.stdout.write("Demo outages already exist; nothing created.")
        else:
            made = self._seed()
            self.stdout.write(f"Demo outages created: {made}")
        version = snapshot_publish()
        self.stdout.write(f"Published snapshot version {version}")

    # --- seeding -----------------------------------------------------------------------------

    def _seed(self) -> int:
        used: set[int] = set()
        made = 0
        for scenario in FAULTS:
            device = self._device(scenario, used)
            if device is None:
                self.stderr.write(f"No device for {scenario.type} in {scenario.district}; skipped")
                continue
            outage = self._fault(scenario, device)
            made += 1
            self._calls(outage, scenario.reports)
        made += self._temporary(used)
        made += self._planned(used)
        return made

    def _device(self, scenario: Scenario, used: set[int]) -> Device | None:
        """Among the first devices (by code) of the scenario's kinds in its district, not in
        another demo outage, the one with the most customers below it (at least the minimum)."""
        candidates = (
            Device.objects.filter(
                kind__in=scenario.kinds,
                energized=True,
                is_open=False,
                feeder__substation__district__code=scenario.district,
            )
            .exclude(pk__in=used)
            .order_by("code")[:CANDIDATES_PER_SCENARIO]
        )
        best, most = None, scenario.min_customers - 1
        for device in candidates:
            count = device_downstream_service_points(device=device).count()
            if count > most:
                best, most = device, count
        if best is not None:
            used.add(best.pk)
        return best

    def _fault(self, scenario: Scenario, device: Device) -> Outage:
        now = timezone.now()
        cause = OutageCause.objects.filter(code=scenario.cause).first() if scenario.cause else None
        outage = outage_create(
            type=OutageType.objects.get(code=scenario.type),
            device=device,
            source=Outage.Source.DISPATCHER
            if scenario.status == Outage.Status.CONFIRMED
            else Outage.Source.ROLLUP,
            actor=None,
            actor_label=DEMO_LABEL,
            status=scenario.status,
            started_at=now - timedelta(minutes=40),
            cause=cause,
            description=scenario.description,
            etr=now + timedelta(minutes=scenario.etr_minutes) if scenario.etr_minutes else None,
        )
        # A crew on site (``crew_on_site``) is the repair order's state, not the outage's:
        # ``workorders``' ``seed_demo_repairs`` moves the order and the outage follows it.
        return outage

    def _calls(self, outage: Outage, count: int) -> None:
        """Hotline calls from customers of ``outage`` (merged into it by the intake)."""
        customers = (
            ServicePoint.objects.filter(interruptions__outage=outage)
            .exclude(phone="")
            .order_by("account_no")[:count]
        )
        for sp in customers:
            report_submit(
                data=ReportInput(
                    channel=TroubleReport.Channel.HOTLINE,
                    symptom=TroubleReport.Symptom.NO_POWER,
                    contact_phone=sp.phone,
                    contact_name=sp.customer_name,
                    description="整栋楼停电",
                    service_point_id=sp.pk,
                ),
                actor=None,
            )

    def _temporary(self, used: set[int]) -> int:
        """A temporary maintenance outage under way in 宝安区 (started early, short notice)."""
        scenario = Scenario(
            district="440306",
            kinds=(Device.Kind.LOAD_BREAK_SWITCH, Device.Kind.FUSE, Device.Kind.TRANSFORMER),
            min_customers=3,
            type="temporary_maintenance",
            description="",
        )
        device = self._device(scenario, used)
        if device is None:
            return 0
        now = timezone.now()
        outage = planned_outage_create(
            type=OutageType.objects.get(code="temporary_maintenance"),
            devices=[device],
            planned_start_at=now + timedelta(minutes=5),
            planned_end_at=now + timedelta(hours=3),
            description="配电设备临时检修，请提前做好准备。",
            actor=None,
            override_reason="设备缺陷需立即处理（演示数据）",
            actor_label=DEMO_LABEL,
        )
        started = planned_outage_start(outage=outage, actor=None, actor_label=DEMO_LABEL)
        outage_set_etr(
            outage=started, etr=outage.planned_end_at, actor=None, actor_label=DEMO_LABEL
        )
        return 1

    def _planned(self, used: set[int]) -> int:
        """A planned maintenance outage announced for three days from now in 罗湖区."""
        scenario = Scenario(
            district="440303",
            kinds=(Device.Kind.LOAD_BREAK_SWITCH, Device.Kind.FUSE, Device.Kind.TRANSFORMER),
            min_customers=3,
            type="planned_maintenance",
            description="",
        )
        device = self._device(scenario, used)
        if device is None:
            return 0
        start = (timezone.localtime() + timedelta(days=3)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        outage = planned_outage_create(
            type=OutageType.objects.get(code="planned_maintenance"),
            devices=[device],
            planned_start_at=start,
            planned_end_at=start + timedelta(hours=6),
            description="线路计划检修。",
            actor=None,
            override_reason="演示数据：公告期不足 7 天",
            actor_label=DEMO_LABEL,
        )
        planned_outage_publish_notice(outage=outage, actor=None, actor_label=DEMO_LABEL)
        return 1
