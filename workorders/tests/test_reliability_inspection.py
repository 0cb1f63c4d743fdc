"""An inspection order raised from a frequent-outage alert, linked to it, once."""

import pytest

from outages.tests.conftest import build_network
from reliability import services as reliability_services
from reliability.models import FrequentOutageAlert
from reliability.tests.conftest import days_ago, past_outage
from workorders.models import WorkOrder
from workorders.tests.factories import reference_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(db):
    reference_data()
    network = build_network()
    for n in (25, 10):
        past_outage(network, "T1", days_ago(n))
    reliability_services.frequent_outage_check(service_point_ids=sorted(network.below("T1")))
    return FrequentOutageAlert.objects.order_by("pk").first()


def test_raise_inspection_from_alert_once(api_client, dispatcher, alert):
    api_client.force_authenticate(dispatcher)
    url = f"/api/v1/reliability/alerts/{alert.pk}/inspection-order"
    first = api_client.post(url)
    assert first.status_code == 201
    order = WorkOrder.objects.get(pk=first.json()["id"])
    assert order.kind == WorkOrder.Kind.INSPECTION
    assert order.service_point_id == alert.service_point_id
    alert.refresh_from_db()
    assert alert.work_order_id == order.pk
    assert alert.acknowledged_by == dispatcher
    again = api_client.post(url)
    assert again.json()["id"] == order.pk
    assert WorkOrder.objects.filter(kind=WorkOrder.Kind.INSPECTION).count() == 1


def test_only_dispatchers_raise(api_client, hotline_agent, outsider, alert):
    url = f"/api/v1/reliability/alerts/{alert.pk}/inspection-order"
    for user in (hotline_agent, outsider):
        api_client.force_authenticate(user)
        assert api_client.post(url).status_code == 403
    assert not WorkOrder.objects.filter(kind=WorkOrder.Kind.INSPECTION).exists()
