"""Deadline warnings and breaches: the service's marks, the sweeper, a real worker."""

import json
import time
from datetime import timedelta

import pytest
from django.db.models import F

from complaints.models import Complaint, ComplaintEvent
from complaints.selectors import complaint_ids_deadline_due
from complaints.services import complaint_deadline_check, complaint_transition
from complaints.tasks import complaint_deadline_check_task, complaint_deadlines_sweep_task
from complaints.tests.factories import make_complaint


def _age(c: Complaint, hours: float) -> None:
    """Move a complaint's receipt and clocks ``hours`` into the past."""
    d = timedelta(hours=hours)
    Complaint.objects.filter(pk=c.pk).update(
        received_at=F("received_at") - d,
        contact_due_at=F("contact_due_at") - d,
        reply_due_at=F("reply_due_at") - d,
    )


@pytest.mark.django_db
def test_marks_are_set_once_in_order(sp):
    c = make_complaint(sp)
    assert complaint_deadline_check(complaint_id=c.pk) == []
    _age(c, 19)  # past 75 % of the 24-hour contact window
    assert complaint_ids_deadline_due() == [c.pk]
    assert complaint_deadline_check(complaint_id=c.pk) == ["contact_warned_at"]
    assert complaint_deadline_check(complaint_id=c.pk) == []
    _age(c, 6)
    assert complaint_deadline_check(complaint_id=c.pk) == ["contact_breached_at"]
    kinds = list(
        ComplaintEvent.objects.filter(complaint=c, kind__startswith="deadline").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["deadline_warning", "deadline_breached"]


@pytest.mark.django_db
def test_contact_clock_stops_once_contacted(sp):
    c = make_complaint(sp)
    complaint_transition(complaint=c, to="contacted")
    _age(c, 30)
    assert complaint_deadline_check(complaint_id=c.pk) == []
    assert c.pk not in complaint_ids_deadline_due()


@pytest.mark.django_db
def test_sweeper_enqueues_json_safe_ids(sp, django_capture_on_commit_callbacks, monkeypatch):
    c = make_complaint(sp)
    _age(c, 24 * 9)
    sent = []
    monkeypatch.setattr(
        complaint_deadline_check_task, "apply_async", lambda args, **kw: sent.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True):
        complaint_deadlines_sweep_task()
    assert sent == [(c.pk,)]
    assert json.loads(json.dumps(sent[0])) == [c.pk]


@pytest.mark.django_db(transaction=True)
def test_real_worker_marks_a_breach(celery_worker, network):
    sp = network.sps["T1"][0]
    c = make_complaint(sp)
    _age(c, 24 * 9)
    complaint_deadlines_sweep_task.delay()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        c.refresh_from_db()
        if c.reply_breached_at is not None:
            break
        time.sleep(0.2)
    assert c.contact_breached_at is not None
    assert c.reply_breached_at is not None
