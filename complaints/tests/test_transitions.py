"""The one transition service: every allowed move, the forbidden ones, the compare-and-set,
and closing only with a confirmed trace and an accountability record."""

import pytest

from complaints import services
from complaints.models import Accountability, Complaint, ComplaintEvent
from complaints.tests.factories import force_status, make_complaint
from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, TransitionNotAllowed

pytestmark = pytest.mark.django_db
S = Complaint.Status


def _ready_to_close(c: Complaint) -> None:
    services.complaint_trace_confirm(complaint=c, step="travel", finding="到达超时")
    services.complaint_accountability_set(
        complaint=c,
        nature=Accountability.Nature.INDIVIDUAL,
        unit="福田供电所",
        person="张三",
        outcome=Accountability.Outcome.REMINDER,
    )


ALLOWED = [(a, b) for a, targets in Complaint.ALLOWED_TRANSITIONS.items() for b in targets]
FORBIDDEN = [
    (a, b) for a in S.values for b in S.values if b not in Complaint.ALLOWED_TRANSITIONS[a]
]


@pytest.mark.parametrize(("start", "to"), ALLOWED)
def test_every_allowed_transition_sets_its_time_and_writes_the_timeline(sp, start, to):
    c = force_status(make_complaint(sp), start)
    if to == S.CLOSED:
        _ready_to_close(c)
    version = c.version
    services.complaint_transition(complaint=c, to=to, reason="test", reply="已向用户说明原因")
    c.refresh_from_db()
    assert c.status == to
    assert c.version == version + 1
    event = ComplaintEvent.objects.filter(complaint=c, kind="status_changed").last()
    assert (event.from_status, event.to_status) == (start, to)
    if to == S.CONTACTED:
        assert c.contacted_at is not None
    if to == S.REPLIED:
        assert c.replied_at is not None
        assert c.reply == "已向用户说明原因"
    if to == S.CLOSED:
        assert c.closed_at is not None
    if to == S.REOPENED:
        assert c.closed_at is None
        assert c.reopened_count == 1


@pytest.mark.parametrize(("start", "to"), FORBIDDEN)
def test_forbidden_transitions_are_refused_and_change_nothing(sp, start, to):
    c = force_status(make_complaint(sp), start)
    with pytest.raises(TransitionNotAllowed):
        services.complaint_transition(complaint=c, to=to, reply="x")
    c.refresh_from_db()
    assert c.status == start


def test_unknown_target_is_refused(sp):
    c = make_complaint(sp)
    with pytest.raises(TransitionNotAllowed):
        services.complaint_transition(complaint=c, to="archived")


def test_stale_copy_gets_concurrent_update(sp):
    c = make_complaint(sp)
    stale = Complaint.objects.get(pk=c.pk)
    services.complaint_transition(complaint=c, to=S.CONTACTED)
    with pytest.raises(ConcurrentUpdate):
        services.complaint_transition(complaint=stale, to=S.CONTACTED)
    assert ComplaintEvent.objects.filter(complaint=c, kind="status_changed").count() == 1


def test_close_needs_trace_and_accountability(sp):
    c = force_status(make_complaint(sp), S.REPLIED)
    with pytest.raises(DomainError) as err:
        services.complaint_transition(complaint=c, to=S.CLOSED)
    assert err.value.code == "close_blocked"
    services.complaint_trace_suggest(complaint=c)  # a suggestion is not a confirmation
    with pytest.raises(DomainError):
        services.complaint_transition(complaint=c, to=S.CLOSED)
    services.complaint_trace_confirm(complaint=c, step="information")
    with pytest.raises(DomainError, match="问责"):
        services.complaint_transition(complaint=c, to=S.CLOSED)
    services.complaint_accountability_set(
        complaint=c,
        nature=Accountability.Nature.SHARED,
        unit="调度班",
        manager="李四",
        outcome=Accountability.Outcome.CRITICISM,
    )
    c.refresh_from_db()
    services.complaint_transition(complaint=c, to=S.CLOSED)
    assert Complaint.objects.get(pk=c.pk).status == S.CLOSED


def test_reply_needs_its_text(sp):
    c = force_status(make_complaint(sp), S.INVESTIGATING)
    with pytest.raises(DomainError) as err:
        services.complaint_transition(complaint=c, to=S.REPLIED)
    assert "reply" in err.value.fields


def test_reopen_restarts_the_reply_clock(sp):
    c = force_status(make_complaint(sp), S.CLOSED, reply_breached_at=None)
    old_due = c.reply_due_at
    services.complaint_transition(complaint=c, to=S.REOPENED, reason="用户不满意")
    c.refresh_from_db()
    assert c.reply_due_at >= old_due
    assert c.reopened_count == 1


def test_accountability_holds_individual_against_person_and_shared_against_manager(sp):
    c = make_complaint(sp)
    a = services.complaint_accountability_set(
        complaint=c,
        nature="individual",
        unit="站",
        person="王五",
        manager="赵六",
        outcome="deduction",
    )
    assert a.held_against == "王五"
    a = services.complaint_accountability_set(
        complaint=c, nature="shared", unit="站", person="王五", manager="赵六", outcome="reminder"
    )
    assert a.held_against == "赵六"
    with pytest.raises(DomainError) as err:
        services.complaint_accountability_set(
            complaint=c, nature="individual", unit="站", outcome="reminder"
        )
    assert "person" in err.value.fields
