"""The demo's year of history: frequent and warning customers and non-zero indices."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from reliability import selectors
from reliability.models import FrequentOutageAlert
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_seed_demo_reliability_is_idempotent_and_shows_alerts():
    call_command("seed_demo", "--service-points", "400", "--no-progress", stdout=StringIO())
    orders_before = WorkOrder.objects.count()
    call_command("seed_demo_reliability", "--background", "15", stdout=StringIO())
    levels = set(FrequentOutageAlert.objects.filter(status="open").values_list("level", flat=True))
    assert levels == {"frequent", "warning"}
    today = timezone.localdate()
    [city] = selectors.reliability_indices(
        date_from=today - timezone.timedelta(days=365), date_to=today
    )
    assert city["SAIFI"] > 0
    assert city["SAIDI"] > 0
    # history raises no work orders (it was handled long ago)
    assert WorkOrder.objects.count() == orders_before
    alerts = FrequentOutageAlert.objects.count()
    out = StringIO()
    call_command("seed_demo_reliability", stdout=out)
    assert FrequentOutageAlert.objects.count() == alerts
    assert "'raised': 0" in out.getvalue()
