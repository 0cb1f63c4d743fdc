"""The small shared pieces of dispatch_center.core."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from dispatch_center.core.dates import iso
from dispatch_center.core.exceptions import ExternalServiceError
from dispatch_center.core.i18n import is_english, local_name, pick_name
from dispatch_center.core.tasks import TASK_OPTIONS
from dispatch_center.core.timeline import label_for


def test_iso_in_local_time_or_as_given():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert iso(at) == "2026-01-02T11:04:05+08:00"
    assert iso(at, local=False) == "2026-01-02T03:04:05+00:00"
    assert iso(None) is None


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "福田区"), ("en", "Futian"), ("en-gb", "Futian")]
)
def test_names_follow_the_active_language(language, expected):
    row = SimpleNamespace(name="福田区", name_en="Futian")
    with translation.override(language):
        assert is_english() == (expected == "Futian")
        assert local_name(row) == expected
        assert pick_name("福田区", "Futian") == expected
        # Without an English name the Chinese one stands
        assert pick_name("福田区", "") == "福田区"
    assert local_name(None) == ""


@pytest.mark.django_db
def test_label_for_names_the_user_or_the_system():
    assert label_for(User(username="alice")) == "alice"
    assert label_for(None, "beat") == "beat"
    assert label_for(None) == "system"


def test_task_options_retry_external_failures_and_acknowledge_late():
    assert TASK_OPTIONS["acks_late"] is True
    assert TASK_OPTIONS["autoretry_for"] == (ExternalServiceError,)
