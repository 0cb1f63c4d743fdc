"""The nightly task on a real Celery worker (Redis broker, analytics queue): it stores the
last days' figures and awards their points, and a second run changes nothing."""

import time
from datetime import timedelta

import pytest

from dashboard.models import DailyFigure, PointAward
from dashboard.tasks import dashboard_nightly_task
from dashboard.tests.conftest import DAY, build_history

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail("the worker did not store the figures in time")


def test_nightly_task_on_the_worker(celery_worker):
    # given: hand-built history on June 10 (committed: the worker reads it)
    build_history()
    today = (DAY + timedelta(days=1)).isoformat()
    # when: the nightly task runs on the worker for "today" = June 11
    dashboard_nightly_task.apply_async(args=[today], queue="analytics").get(timeout=60)
    # then: June 10's figures are stored and its points awarded
    _wait(lambda: DailyFigure.objects.filter(day=DAY, figure="orders").exists())
    orders = sum(
        DailyFigure.objects.filter(day=DAY, figure="orders", level="city").values_list(
            "total", flat=True
        )
    )
    assert orders == 3
    assert PointAward.objects.count() == 4
    stored = DailyFigure.objects.count()
    # and: running it again stores the same rows and no new award
    dashboard_nightly_task.apply_async(args=[today], queue="analytics").get(timeout=60)
    assert DailyFigure.objects.count() == stored
    assert PointAward.objects.count() == 4
