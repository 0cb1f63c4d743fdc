"""The public map's planned-outage layer: ``planned.geojson`` in the snapshot."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from outages import services
from outages.publicmap.publishing import read_current
from outages.publicmap.snapshot import snapshot_planned, snapshot_publish
from outages.tests.factories import outage_type

pytestmark = pytest.mark.django_db


def _planned(net, code, days, *, publish=True):
    start = timezone.now() + timedelta(days=days)
    outage = services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[net[code]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="线路检修",
        actor=None,
        override_reason="test",
    )
    if publish:
        services.planned_outage_publish_notice(outage=outage, actor=None)
    return outage


def test_only_published_future_planned_outages_within_two_weeks(network):
    soon = _planned(network, "S1", 3)
    later = _planned(network, "S2", 1)
    _planned(network, "FU", 2, publish=False)  # notice not out: not public yet
    _planned(network, "B", 20)  # beyond the layer's horizon
    layer = snapshot_planned(now=timezone.now())
    assert [f["id"] for f in layer["features"]] == [later.pk, soon.pk]
    props = layer["features"][1]["properties"]
    assert props["reason"] == "线路检修"
    assert props["category"] == "planned"
    assert props["customers_affected"] == 6
    assert props["starts_at"] == timezone.localtime(soon.planned_start_at).isoformat()


def test_planned_layer_is_published_with_the_snapshot(network, settings, tmp_path):
    settings.SNAPSHOT_DIR = str(tmp_path)
    outage = _planned(network, "S1", 3)
    version = snapshot_publish()
    current = read_current(tmp_path)
    assert current["version"] == version
    layer = json.loads((tmp_path / current["files"]["planned.geojson"]).read_bytes())
    assert [f["id"] for f in layer["features"]] == [outage.pk]
