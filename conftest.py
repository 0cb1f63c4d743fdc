"""Fixtures shared by every test: API client, role users, a real Celery worker."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from dispatch_center import roles

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The third-party data folder beside the project; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def _user_with_role(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="pass-for-tests-1")
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def dispatcher(db) -> User:
    return _user_with_role("dispatcher1", roles.DISPATCHER)


@pytest.fixture
def hotline_agent(db) -> User:
    return _user_with_role("agent1", roles.HOTLINE_AGENT)


@pytest.fixture
def supervisor(db) -> User:
    return _user_with_role("supervisor1", roles.SUPERVISOR)


@pytest.fixture
def crew_user(db) -> User:
    """A user in the crew-member role, not yet attached to a crew."""
    return _user_with_role("crewuser1", roles.CREW_MEMBER)


@pytest.fixture
def scada_gateway(db) -> User:
    return _user_with_role("scada1", roles.SCADA_GATEWAY)


@pytest.fixture
def outsider(db) -> User:
    """An authenticated user with no role at all."""
    return _user_with_role("outsider1", None)


@pytest.fixture
def celery_worker(transactional_db) -> Iterator[object]:
    """A real Celery worker thread consuming every queue from the real Redis broker.

    Tasks are sent through Redis (not run eagerly) while the fixture is active. Needs committed
    data, hence ``transactional_db``.
    """
    from celery.contrib.testing.worker import start_worker

    from dispatch_center.celery import app

    app.conf.task_always_eager = False
    app.control.purge()
    try:
        with start_worker(
            app,
            pool="threads",
            concurrency=2,
            perform_ping_check=False,
            queues=["default", "dispatch", "analytics"],
            shutdown_timeout=20,
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True
