"""Subscriptions, the notification outbox and its senders: one message per change per
subscriber, even when tasks run twice; masked contacts; signed unsubscribe links."""

import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from dispatch_center.core.exceptions import ExternalServiceError
from outages import notifications
from outages.models import EtrChange, Notification, Outage, Subscription
from outages.notifications import (
    EmailSender,
    mask_recipient,
    notification_send,
    notifications_queue_for_outage,
    senders,
    subscription_create,
    unsubscribe_token,
)
from outages.services import outage_create, outage_restore, outage_set_etr
from outages.tasks.notifications import (
    notification_send_task,
    notifications_queue_task,
    notifications_sweep_task,
)
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type

SUBSCRIBE_URL = "/api/v1/public/subscriptions"
PHONE = "13912345678"


class RecordingSender:
    """A sender that records what it was asked to send (shared by the worker thread)."""

    sent: list[tuple[str, str, str]] = []
    lock = threading.Lock()
    fail_with: Exception | None = None

    def send(self, recipient: str, subject: str, body: str) -> None:
        if RecordingSender.fail_with is not None:
            raise RecordingSender.fail_with
        with RecordingSender.lock:
            RecordingSender.sent.append((recipient, subject, body))


@pytest.fixture(autouse=True)
def recording_sender(settings):
    settings.NOTIFICATION_SENDER = f"{__name__}.RecordingSender"
    settings.NOTIFICATION_SENDERS = {}
    settings.PUBLIC_BASE_URL = "https://outage.example.cn"
    RecordingSender.sent = []
    RecordingSender.fail_with = None
    yield RecordingSender
    RecordingSender.fail_with = None


def _declare(network, code="S1", **kwargs) -> Outage:
    return outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network[code],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        cause=outage_cause("cable_fault"),
        **kwargs,
    )


def _subscribe(client: APIClient, **body):
    return client.post(SUBSCRIBE_URL, body, format="json")


# --- the public endpoint -----------------------------------------------------------------------


@pytest.mark.django_db
def test_subscribe_by_phone_to_an_outage_masks_the_number_and_confirms(
    network, api_client, django_capture_on_commit_callbacks
):
    outage = _declare(network)
    with django_capture_on_commit_callbacks(execute=True):
        response = _subscribe(api_client, channel="sms", phone=PHONE, outage_id=outage.pk)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["recipient"] == "139****5678"
    assert body["target"] == {"outage_id": outage.pk, "address": None}
    assert PHONE not in response.content.decode()
    assert "139****5678" in body["message"]
    # A confirmation went out, with the unsubscribe link
    (confirmation,) = RecordingSender.sent
    assert confirmation[0] == PHONE
    assert "已订阅" in confirmation[2]
    assert "https://outage.example.cn/map/unsubscribe/" in confirmation[2]
    row = Notification.objects.get()
    assert (row.event_key, row.status, row.attempts) == ("subscribed", "sent", 1)


@pytest.mark.django_db
def test_subscribing_again_changes_nothing_and_sends_no_second_confirmation(
    network, api_client, django_capture_on_commit_callbacks
):
    outage = _declare(network)
    with django_capture_on_commit_callbacks(execute=True):
        first = _subscribe(api_client, channel="sms", phone=PHONE, outage_id=outage.pk)
        again = _subscribe(api_client, channel="sms", phone="139 1234 5678", outage_id=outage.pk)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert Subscription.objects.count() == 1
    assert len(RecordingSender.sent) == 1


@pytest.mark.django_db
def test_subscribe_to_an_address_by_email_and_by_account(network, api_client):
    sp = network.sps["T3"][0]
    by_address = _subscribe(
        api_client, channel="email", email="Li.Lei@Example.com", address=sp.address
    )
    by_account = _subscribe(api_client, channel="sms", phone=PHONE, account_no=sp.account_no)
    assert by_address.status_code == 201, by_address.content
    assert by_address.json()["recipient"] == "l***@example.com"
    assert by_address.json()["target"] == {"outage_id": None, "address": sp.address}
    assert by_account.status_code == 201
    assert sp.account_no not in by_account.content.decode()
    subs = Subscription.objects.order_by("pk")
    assert [s.address_norm for s in subs] == [sp.address_norm, sp.address_norm]
    assert all(s.expires_at and s.expires_at > timezone.now() + timedelta(days=29) for s in subs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "sms", "phone": "12345", "outage_id": 1}, "phone"),
        ({"channel": "sms", "outage_id": 1}, "phone"),
        ({"channel": "email", "email": "not-an-address", "address": "华强北路1号"}, "email"),
        ({"channel": "fax", "phone": PHONE, "outage_id": 1}, "channel"),
        ({"channel": "sms", "phone": PHONE}, "outage_id"),
        ({"channel": "sms", "phone": PHONE, "outage_id": 1, "address": "华强北路1号"}, "outage_id"),
        ({"channel": "sms", "phone": PHONE, "address": "月球路1号"}, "address"),
        ({"channel": "sms", "phone": PHONE, "account_no": "999999999999"}, "account_no"),
        ({"channel": "sms", "phone": PHONE, "outage_id": 999999}, "outage_id"),
    ],
)
def test_bad_subscriptions_are_refused_field_by_field(network, api_client, body, field):
    response = _subscribe(api_client, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Subscription.objects.count() == 0


@pytest.mark.django_db
def test_an_outage_that_is_over_cannot_be_subscribed(network, api_client):
    outage = _declare(network)
    outage_restore(outage=outage, actor=None)
    response = _subscribe(api_client, channel="sms", phone=PHONE, outage_id=outage.pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "outage_over"


@pytest.mark.django_db
def test_a_cross_site_form_post_is_refused(network, api_client):
    # A form from another site can only send form encodings, never JSON.
    outage = _declare(network)
    response = api_client.post(
        SUBSCRIBE_URL, {"channel": "sms", "phone": PHONE, "outage_id": outage.pk}
    )
    assert response.status_code == 415
    assert Subscription.objects.count() == 0


@pytest.mark.django_db
def test_one_recipient_cannot_be_flooded_with_subscriptions(network, api_client, settings):
    settings.NOTIFICATION_MAX_NEW_SUBSCRIPTIONS_PER_DAY = 2
    for sp in network.sps["T1"][:2]:
        assert (
            _subscribe(api_client, channel="sms", phone=PHONE, address=sp.address).status_code
            == 201
        )
    third = _subscribe(api_client, channel="sms", phone=PHONE, address=network.sps["T2"][0].address)
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "too_many_subscriptions"


@pytest.mark.django_db
def test_the_endpoint_is_rate_limited_with_the_public_scope(network, api_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"public": "2/day"},
    }
    # A client address of its own: its counter starts at zero whatever ran before.
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    codes = [
        api_client.post(
            SUBSCRIBE_URL,
            {"channel": "sms", "phone": "12", "outage_id": 1},
            format="json",
            REMOTE_ADDR=address,
        ).status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]


def test_mask_recipient_never_shows_the_whole_contact():
    assert mask_recipient("13912345678") == "139****5678"
    assert mask_recipient("wang.fang@example.com") == "w***@example.com"
    assert mask_recipient("123") == "****"


# --- the outbox ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_etr_change_queues_one_message_per_subscriber_even_when_the_task_runs_twice(
    network, django_capture_on_commit_callbacks
):
    # Given an outage with two subscribers, one of them subscribed to the outage and the address
    outage = _declare(network)
    sp = network.sps["T1"][0]
    with django_capture_on_commit_callbacks(execute=True):
        subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
        subscription_create(channel="sms", recipient=PHONE, address=sp.address)
        subscription_create(channel="email", recipient="a@example.com", outage_id=outage.pk)
        # and a subscriber of an address outside the outage
        subscription_create(
            channel="sms", recipient="13700000000", address=network.sps["T3"][0].address
        )
    RecordingSender.sent = []

    # When the ETR changes (the subscriber queues and sends, eagerly in tests)
    etr = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outage_set_etr(outage=outage, etr=etr, actor=None)
    assert callbacks, "the change must enqueue work on commit"

    # Then each concerned person got exactly one message
    assert sorted(r for r, _s, _b in RecordingSender.sent) == sorted(["a@example.com", PHONE])
    change = EtrChange.objects.get(outage=outage)
    rows = Notification.objects.filter(event_key=f"etr:{change.pk}")
    assert rows.count() == 2
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    body = next(b for r, _s, b in RecordingSender.sent if r == PHONE)
    local = timezone.localtime(etr)
    assert f"{local.month}月{local.day}日 {local:%H:%M}" in body
    assert "退订" in body

    # When the queueing task and the send tasks run again (a redelivery)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_queue_task.delay(outage.pk, "etr", etr.isoformat())
        for pk in rows.values_list("pk", flat=True):
            notification_send_task.delay(pk)
    # Then nothing more was queued or sent
    assert Notification.objects.filter(event_key=f"etr:{change.pk}").count() == 2
    assert len(RecordingSender.sent) == 2


@pytest.mark.django_db
def test_restoration_is_announced_once(network, django_capture_on_commit_callbacks):
    outage = _declare(network)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    RecordingSender.sent = []
    with django_capture_on_commit_callbacks(execute=True):
        outage_restore(outage=outage, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        notifications_queue_for_outage(outage_id=outage.pk, kind="restored")
    ((recipient, subject, body),) = RecordingSender.sent
    assert recipient == PHONE
    assert subject == "已恢复供电"
    assert "恢复供电" in body
    assert "95598" in body


@pytest.mark.django_db
def test_english_subscriber_gets_the_english_message(network, django_capture_on_commit_callbacks):
    outage = _declare(network)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk, language="en")
        subscription_create(channel="sms", recipient="13800000000", outage_id=outage.pk)
    RecordingSender.sent = []
    with django_capture_on_commit_callbacks(execute=True):
        outage_set_etr(outage=outage, etr=timezone.now() + timedelta(hours=3), actor=None)
    by_recipient = {r: (s, b) for r, s, b in RecordingSender.sent}
    subject, body = by_recipient[PHONE]
    assert subject == "Estimated restoration time updated"
    assert "Unsubscribe:" in body
    assert "预计" not in body
    assert "预计恢复供电时间更新为" in by_recipient["13800000000"][1]


@pytest.mark.django_db
def test_a_send_task_running_twice_sends_once(network, django_capture_on_commit_callbacks):
    outage = _declare(network)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    row = Notification.objects.get()
    assert notification_send(notification_id=row.pk) == "sent"
    assert notification_send(notification_id=row.pk) == "skipped"
    assert len(RecordingSender.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_send_tasks_claim_the_row_once():
    net = build_network()
    outage = _declare(net)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    # (outside a transaction the eager task already sent the confirmation: queue it again)
    row = Notification.objects.get()
    Notification.objects.filter(pk=row.pk).update(status="queued", sent_at=None)
    RecordingSender.sent = []
    results: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        from django.db import connection

        try:
            barrier.wait()
            results.append(notification_send(notification_id=row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(RecordingSender.sent) == 1


@pytest.mark.django_db
def test_a_gateway_failure_is_retried_then_given_up(network, monkeypatch):
    outage = _declare(network)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    row = Notification.objects.get()
    RecordingSender.fail_with = ExternalServiceError("gateway timeout")

    # A temporary failure puts the row back to queued and raises for the task to retry
    with pytest.raises(ExternalServiceError):
        notification_send(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "gateway timeout")

    # The retry succeeds once the gateway is back
    RecordingSender.fail_with = None
    assert notification_send(notification_id=row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert row.sent_at is not None

    # A row that keeps failing is failed after the last attempt
    subscription_create(channel="sms", recipient="13700000000", outage_id=outage.pk)
    other = Notification.objects.exclude(pk=row.pk).get()
    Notification.objects.filter(pk=other.pk).update(attempts=notifications.MAX_ATTEMPTS - 1)
    RecordingSender.fail_with = ExternalServiceError("still down")
    assert notification_send(notification_id=other.pk) == "failed"
    other.refresh_from_db()
    assert other.status == "failed"


@pytest.mark.django_db
def test_a_permanent_failure_fails_the_row_without_retry(network):
    outage = _declare(network)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    row = Notification.objects.get()
    RecordingSender.fail_with = ValueError("number rejected")
    assert notification_send(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == "failed"
    assert "number rejected" in row.last_error


@pytest.mark.django_db
def test_email_sender_uses_django_mail_and_retries_on_smtp_errors(monkeypatch):
    EmailSender().send("a@example.com", "停电通知", "正文")
    assert mail.outbox[-1].to == ["a@example.com"]
    assert mail.outbox[-1].subject == "停电通知"

    def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(senders, "send_mail", broken)
    with pytest.raises(ExternalServiceError):
        EmailSender().send("a@example.com", "s", "b")


@pytest.mark.django_db
def test_sweeper_requeues_lost_rows_and_fails_interrupted_ones(
    network, django_capture_on_commit_callbacks
):
    outage = _declare(network)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    subscription_create(channel="sms", recipient="13700000000", outage_id=outage.pk)
    lost, interrupted = Notification.objects.order_by("pk")
    old = timezone.now() - timedelta(minutes=30)
    Notification.objects.filter(pk=lost.pk).update(created_at=old)
    Notification.objects.filter(pk=interrupted.pk).update(
        created_at=old, status="sending", claimed_at=old, attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications_sweep_task.delay()
    lost.refresh_from_db()
    interrupted.refresh_from_db()
    assert lost.status == "sent"
    assert interrupted.status == "failed"  # it may have gone out: never sent twice
    assert [r for r, _s, _b in RecordingSender.sent] == [PHONE]


# --- unsubscribing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unsubscribe_link_asks_first_then_stops_the_messages(network, client, api_client):
    outage = _declare(network)
    result = subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    token = unsubscribe_token(result.subscription)
    url = f"/map/unsubscribe/{token}"

    # Opening the link (or a scanner following it) changes nothing
    page = client.get(url)
    assert page.status_code == 200
    assert "139****5678" in page.content.decode()
    assert PHONE not in page.content.decode()
    assert Subscription.objects.get().unsubscribed_at is None

    # Confirming unsubscribes; a queued message is then not sent
    done = client.post(url)
    assert done.status_code == 200
    assert "已退订" in done.content.decode()
    assert Subscription.objects.get().unsubscribed_at is not None
    row = Notification.objects.get()
    assert notification_send(notification_id=row.pk) == "unsubscribed"
    assert RecordingSender.sent == []

    # The API does the same and is idempotent; a forged token is refused
    again = api_client.post(
        "/api/v1/public/subscriptions/unsubscribe", {"token": token}, format="json"
    )
    assert again.status_code == 200
    forged = api_client.post(
        "/api/v1/public/subscriptions/unsubscribe", {"token": token[:-2] + "xx"}, format="json"
    )
    assert forged.status_code == 404
    assert client.get(f"/map/unsubscribe/{token[:-2]}xx").status_code == 404


# --- with a real worker ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_etr_change_is_sent_once_by_a_real_worker_even_when_queued_twice(celery_worker):
    # Given a subscriber of an outage (committed: the worker reads the database)
    net = build_network()
    outage = _declare(net)
    subscription_create(channel="sms", recipient=PHONE, outage_id=outage.pk)
    _wait_for(lambda: len(RecordingSender.sent) == 1)  # the confirmation
    RecordingSender.sent = []

    # When the ETR changes, and the queueing task is sent a second time on top
    etr = timezone.now() + timedelta(hours=2)
    outage_set_etr(outage=outage, etr=etr, actor=None)
    _wait_for(lambda: Notification.objects.filter(event_key__startswith="etr:").exists())
    notifications_queue_task.delay(outage.pk, "etr", etr.isoformat())
    _wait_for(
        lambda: Notification.objects.filter(event_key__startswith="etr:", status="sent").exists()
    )
    time.sleep(1.0)  # let the duplicate tasks run through the worker

    # Then exactly one ETR message was sent
    rows = Notification.objects.filter(event_key__startswith="etr:")
    assert rows.count() == 1
    assert rows.get().status == "sent"
    assert len(RecordingSender.sent) == 1
    assert json.loads(json.dumps([outage.pk, "etr", etr.isoformat()]))  # task args are JSON


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
