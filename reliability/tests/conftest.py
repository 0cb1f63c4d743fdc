"""Fixtures of the reliability tests: the outages tests' small network and a history maker."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from outages import services as outage_services
from outages.models import Outage
from outages.tests.conftest import Network, build_network
from outages.tests.factories import outage_type


@pytest.fixture
def network(db) -> Network:
    return build_network()


def past_outage(
    net: Network,
    code: str,
    start: datetime,
    minutes: float = 60,
    *,
    type_code: str = "fault_transformer",
) -> Outage:
    """An outage on device ``code`` that started at ``start`` and was restored after
    ``minutes``, through the outages services (as the pool records it)."""
    outage = outage_services.outage_create(
        type=outage_type(type_code),
        device=net[code],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        started_at=start,
    )
    return outage_services.outage_restore(
        outage=outage, actor=None, at=start + timedelta(minutes=minutes)
    )


def days_ago(n: int, hour: int = 10) -> datetime:
    day = timezone.localdate() - timedelta(days=n)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))
