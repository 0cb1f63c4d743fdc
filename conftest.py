"""Fixtures shared by every test: API client, role users, a real Celery worker."""

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from dispatch_center.core import roles

ROOT = Path(__file__).resolve().parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The third-party data folder beside the project; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def ensure_reference_data() -> None:
    """Re-load the rows that data migrations create (roles, taxonomy, SLA and pool policies).

    Transactional tests end with a flush that empties every table, data migrations' rows
    included; the next transactional test gets them back from here. (``serialized_rollback``
    would do it too, but mixing it with plain transactional tests breaks on content types.)
    """
    from importlib import import_module

    from django.apps import apps

    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    for module in (
        "outages.migrations.0002_load_outage_taxonomy",
        "workorders.migrations.0002_default_sla_and_pool_policies",
        "complaints.migrations.0002_default_categories_and_calendar",
        "dashboard.migrations.0002_default_point_items",
        "dashboard.migrations.0004_default_point_items_english",
    ):
        try:
            loader = import_module(module).load
        except ModuleNotFoundError:
            continue
        loader(apps, None)


@pytest.fixture(scope="session", autouse=True)
def compiled_messages() -> None:
    """Compile ``locale/*/LC_MESSAGES/*.po`` into .mo files when missing or older, once per
    run: the .mo files are not committed, and English answers and pages come from them."""
    stale = [
        po
        for po in ROOT.glob("locale/*/LC_MESSAGES/*.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        raise pytest.UsageError(
            "gettext's msgfmt is needed to compile the translations (apt-get install gettext)"
        )
    for po in stale:
        subprocess.run(
            [msgfmt, "--check-format", "-o", str(po.with_suffix(".mo")), str(po)], check=True
        )
    # Django caches loaded catalogs per process; drop them so the fresh .mo files are read
    # (what Django's own setting_changed handler does when LOCALE_PATHS change).
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture(autouse=True)
def _redis_breakers_closed() -> None:
    """Each test starts as a fresh process would: with Redis taken to be up. A test that
    simulates a broker or cache failure must not make the next one skip Redis."""
    from dispatch_center.core.degraded import broker_breaker, cache_breaker

    broker_breaker.reset()
    cache_breaker.reset()


@pytest.fixture(autouse=True)
def _no_outage_answers_kept() -> None:
    """Each test starts without the intake's per-process copies of merged calls' answers
    (ids and versions of rolled-back outages come back in later tests), nor look-up answers
    waiting to be cached."""
    from outages.api.public import _deferred
    from outages.selectors.intake import outage_answers_forget

    outage_answers_forget()
    _deferred.clear()  # look-up answers waiting to be cached (versions of earlier tests)


@pytest.fixture(autouse=True)
def _reference_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        ensure_reference_data()


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
