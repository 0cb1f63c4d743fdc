"""The API error shape and the on-commit enqueue helper."""

import json

import pytest
from django.db import transaction
from rest_framework import serializers
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from dispatch_center.core.api import exception_handler
from dispatch_center.core.exceptions import ConcurrentUpdate, DomainError, TransitionNotAllowed
from dispatch_center.core.tasks import enqueue_on_commit


class _Input(serializers.Serializer):
    phone = serializers.RegexField(r"^1\d{10}$")
    points = serializers.ListField(child=serializers.DictField())


def _handle(exc):
    view = APIView()
    request = APIRequestFactory().get("/")
    return exception_handler(exc, {"view": view, "request": request})


def test_validation_error_has_field_messages():
    ser = _Input(data={"phone": "12", "points": "x"})
    assert not ser.is_valid()
    response = _handle(serializers.ValidationError(ser.errors))
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid"
    assert set(response.data["error"]["fields"]) == {"phone", "points"}


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (DomainError("bad"), 400, "domain_error"),
        (TransitionNotAllowed("a", "b"), 409, "transition_not_allowed"),
        (ConcurrentUpdate(1), 409, "concurrent_update"),
    ],
)
def test_domain_errors_map_to_status(exc, status, code):
    response = _handle(exc)
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert response.data["error"]["message"]


class _Recorder:
    def __init__(self):
        self.calls = []

    def apply_async(self, args=(), **options):
        self.calls.append((args, options))


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_commit_and_skips_rollback():
    task = _Recorder()
    with transaction.atomic():
        enqueue_on_commit(task, 7, "x", queue="dispatch")
        assert task.calls == []
    assert task.calls == [((7, "x"), {"queue": "dispatch"})]
    # Arguments must survive a JSON round trip (they travel through Redis).
    assert json.loads(json.dumps(task.calls[0][0])) == [7, "x"]

    try:
        with transaction.atomic():
            enqueue_on_commit(task, 8)
            raise RuntimeError("rollback")
    except RuntimeError:
        pass
    assert len(task.calls) == 1
