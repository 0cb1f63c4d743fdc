"""The demo complaints: tied to the demo outages, every state, once."""

import pytest
from django.core.management import call_command

from complaints.models import Complaint, ComplaintLink

pytestmark = pytest.mark.django_db


def test_seed_demo_complaints_every_state_once(settings, tmp_path, capsys):
    settings.SNAPSHOT_DIR = tmp_path
    call_command(
        "seed_demo", service_points=400, feeders_per_grid=1, crews_per_station=1, no_progress=True
    )
    call_command("seed_demo_outages")
    call_command("seed_demo_complaints")
    count = Complaint.objects.count()
    assert 30 <= count <= 60
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
    assert ComplaintLink.objects.filter(kind="outage").exists()
    assert Complaint.objects.filter(channel="public_opinion", service_point__isnull=True).exists()
    assert Complaint.objects.filter(flags__code="repeat").exists()
    for c in Complaint.objects.filter(status="closed"):
        assert c.trace.confirmed_at is not None
        assert c.accountability is not None
    call_command("seed_demo_complaints")
    assert Complaint.objects.count() == count
    assert "nothing created" in capsys.readouterr().out
