"""factory_boy factories for the outages app.

The taxonomy comes from the data migration; ``outage_type`` re-creates a row when a
transactional test has flushed the tables.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from grids.tests.factories import DeviceFactory
from outages.models import (
    Interruption,
    Outage,
    OutageCategory,
    OutageCause,
    OutageType,
    TroubleReport,
)

_CATEGORIES = {
    "planned": ("计划停电", "Planned", 1),
    "temporary": ("临时停电", "Temporary", 2),
    "fault": ("故障停电", "Fault", 3),
    "other": ("限电及其他", "Curtailment and administrative", 4),
}
# code: category, name, notice rule, notice period
_TYPES = {
    "planned_maintenance": ("planned", "计划检修", "all", timedelta(days=7)),
    "planned_construction": ("planned", "计划施工", "all", timedelta(days=7)),
    "temporary_maintenance": ("temporary", "临时检修", "important", timedelta(hours=24)),
    "fault_upstream": ("fault", "上级电网故障", "none", None),
    "fault_mv_feeder": ("fault", "中压线路故障", "none", None),
    "fault_transformer": ("fault", "配变故障", "none", None),
    "fault_lv_line": ("fault", "低压线路故障", "none", None),
    "fault_single_premise": ("fault", "单户故障", "none", None),
    "orderly_power_use": ("other", "有序用电", "none", None),
}


def outage_category(code: str) -> OutageCategory:
    name, name_en, order = _CATEGORIES[code]
    return OutageCategory.objects.get_or_create(
        code=code, defaults={"name": name, "name_en": name_en, "sort_order": order}
    )[0]


def outage_type(code: str) -> OutageType:
    category, name, rule, period = _TYPES[code]
    return OutageType.objects.get_or_create(
        code=code,
        defaults={
            "category": outage_category(category),
            "name": name,
            "name_en": code,
            "notice_rule": rule,
            "notice_period": period,
        },
    )[0]


def outage_cause(code: str = "equipment_failure") -> OutageCause:
    return OutageCause.objects.get_or_create(code=code, defaults={"name": code, "name_en": code})[0]


class OutageFactory(factory.django.DjangoModelFactory):
    """A confirmed fault outage with no interruptions (add them with the services)."""

    class Meta:
        model = Outage

    type = factory.LazyFunction(lambda: outage_type("fault_mv_feeder"))
    status = Outage.Status.CONFIRMED
    source = Outage.Source.DISPATCHER
    device = factory.SubFactory(DeviceFactory)
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


class InterruptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interruption

    outage = factory.SubFactory(OutageFactory)
    root = factory.SelfAttribute("outage")
    service_point = factory.SubFactory("grids.tests.factories.ServicePointFactory")
    started_at = factory.SelfAttribute("outage.started_at")


class TroubleReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TroubleReport

    reference = factory.Sequence(lambda n: f"R20261123-{n:06d}")
    channel = TroubleReport.Channel.HOTLINE
    contact_phone = factory.Sequence(lambda n: f"139{n:08d}")
    symptom = TroubleReport.Symptom.NO_POWER
    received_at = factory.LazyFunction(timezone.now)
