"""Fault test: Redis stops while customers' reports arrive, then comes back.

The test starts its own ``redis-server`` on a free port (never the shared one), points the
cache, the throttle and the Celery broker at it, and runs a real Celery worker on it. While
one thread files public reports without pause, Redis is stopped and later started again.

Asserted: every valid report is answered 201 and saved; the look-up answers from the
database and ``/healthz`` names Redis; a work order raised during the outage answers 201 and
says its dispatch was deferred; once Redis is back, the worker and the stuck-order sweeper
(played by the test, as beat would) dispatch that order. The figures (reports accepted and
saved, how long dispatch took to resume) are written to ``test-artifacts/redis_outage.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from dispatch_center.core import degraded
from dispatch_center.core.tasks import send_task_safely
from outages.models import TroubleReport

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REPORTS = "/api/v1/public/reports"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# The sweeper's cadence in this test (production: beat every 30 s, orders stale after 60 s).
SWEEP_EVERY = 2.0
# Redis stays down at least this long (and until 30 reports arrived meanwhile).
OUTAGE_SECONDS = 8.0
STALE_SECONDS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server process of this test only; stopped and started by its own handle."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        pytest.fail("own redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # as in a crash: no goodbye to the clients
            self.process.wait(timeout=10)
        self.process = None


def _reset_celery_connections(app) -> None:
    """Drop the producer connections so the next message goes to the current broker URL."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path, settings):
    """Our own Redis, with the cache, the throttle and the broker pointed at it."""
    from dispatch_center.celery import app

    server = OwnRedis(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "dispatch_center.core.redis_client.ReusingRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "fault",
            "OPTIONS": settings.REDIS_SOCKET_OPTIONS,
        }
    }
    settings.WORKORDERS_DISPATCH_STALE_SECONDS = STALE_SECONDS
    saved = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    app.conf.task_always_eager = False
    app.conf.broker_url = server.url
    app.conf.result_backend = server.url
    _reset_celery_connections(app)
    degraded.cache_breaker.reset()
    degraded.broker_breaker.reset()
    try:
        yield server
    finally:
        server.stop()
        app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager = saved
        _reset_celery_connections(app)
        degraded.cache_breaker.reset()
        degraded.broker_breaker.reset()


class SupervisedWorker:
    """A real ``celery worker`` process on our Redis and the test database, restarted when it
    exits, as systemd (``Restart=always``) or a container runtime restarts it in production.

    Celery/kombu 5.7.0 end a worker with "Unrecoverable error" when the broker connection
    drops while the worker holds unacknowledged messages (an ETA task, a late-acked task):
    closing the channel restores them through a transport already collected. A production
    worker therefore needs a supervisor; ``restarts`` counts how often this one was needed.
    """

    def __init__(self, env: dict[str, str], logfile: Path) -> None:
        self.env = env
        self.logfile = logfile
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, daemon=True)

    def _spawn(self) -> None:
        log = self.logfile.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dispatch_center",
                "worker",
                "-Q",
                "default,dispatch,analytics",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"fault-{os.getpid()}@%h",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            if self.process is not None and self.process.poll() is not None:
                self.restarts += 1
                self._spawn()

    def start(self) -> None:
        self._spawn()
        self._watcher.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in self.logfile.read_bytes():
                return
            time.sleep(0.1)
        pytest.fail("the worker did not start: " + self.logfile.read_text()[-2000:])

    def stop(self) -> None:
        self._stop.set()
        self._watcher.join(timeout=5)
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def worker_on_own_redis(own_redis, tmp_path, transactional_db):
    """A real worker process consuming every queue from our Redis, on the test database."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER'] or 'postgres'}"
        f"{':' + db['PASSWORD'] if db.get('PASSWORD') else ''}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dispatch_center.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": own_redis.url,
        "CACHE_KEY_PREFIX": "fault",
        "DJANGO_SECRET_KEY": "fault-test-only",
        "WORKORDERS_DISPATCH_STALE_SECONDS": str(STALE_SECONDS),
        "SNAPSHOT_AUTO_PUBLISH": "false",
        "SNAPSHOT_DIR": str(tmp_path / "snapshot"),
        "LOG_LEVEL": "INFO",
    }
    worker = SupervisedWorker(env, tmp_path / "worker.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


class _Caller(threading.Thread):
    """Files public reports one after another until told to stop."""

    def __init__(self, bodies: list[dict]) -> None:
        super().__init__(daemon=True)
        self.bodies = bodies
        self.answers: list[tuple[int, str | None, float]] = []
        self.stop_after: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        client = APIClient(REMOTE_ADDR="198.51.100.77")
        try:
            n = 0
            while self.stop_after is None or n < self.stop_after:
                body = self.bodies[n % len(self.bodies)]
                response = client.post(REPORTS, body, format="json")
                reference = response.json().get("reference") if response.status_code < 500 else None
                self.answers.append((response.status_code, reference, time.monotonic()))
                n += 1
                time.sleep(0.02)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
        finally:
            connection.close()


def _wait_for(predicate, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_reports_are_kept_while_redis_is_down_and_dispatch_resumes(
    worker_on_own_redis, own_redis, dispatcher
):
    from outages.tests.conftest import build_network
    from workorders.models import WorkOrder
    from workorders.tasks import work_orders_requeue_stuck_task
    from workorders.tests.factories import make_crew, reference_data

    # Given a network, a crew on duty and callers that locate themselves every way there is
    network = build_network()
    reference_data()
    crew = make_crew()
    sps = [sp for group in network.sps.values() for sp in group]
    bodies = []
    for i, sp in enumerate(sps):
        base = {"symptom": "no_power", "phone": f"1380013{i:04d}"}
        bodies += [
            {**base, "account_no": sp.account_no},
            {**base, "lat": sp.lat, "lng": sp.lng},
            {**base, "address": sp.address},
        ]
    bodies.append({"symptom": "flicker", "phone": "13800000000", "address": "火星基地"})
    caller = _Caller(bodies)
    caller.start()
    _wait_for(lambda: len(caller.answers) >= 10, 60, "reports before the outage")

    # When Redis stops while reports keep arriving
    own_redis.stop()
    down_at = time.monotonic()
    _wait_for(
        lambda: (
            len([a for a in caller.answers if a[2] > down_at]) >= 30
            and time.monotonic() - down_at >= OUTAGE_SECONDS
        ),
        120,
        "reports during the outage",
    )
    staff = APIClient()
    staff.force_authenticate(dispatcher)
    order_response = staff.post(
        "/api/v1/work-orders",
        {"kind": "premise_repair", "title": "停电抢修", "lat": 22.54, "lng": 114.05},
        format="json",
    )
    lookup = APIClient(REMOTE_ADDR="198.51.100.78").get(
        "/api/v1/public/lookup", {"q": sps[0].account_no}
    )
    health = APIClient().get("/healthz")
    during = len([a for a in caller.answers if a[2] > down_at])

    # ...and comes back
    own_redis.start()
    up_at = time.monotonic()
    caller.stop_after = len(caller.answers) + 10
    caller.join(timeout=120)
    assert not caller.is_alive()
    assert caller.error is None, caller.error

    # Then every report was answered 201 and saved
    statuses = [status for status, _ref, _at in caller.answers]
    assert statuses == [201] * len(statuses), statuses
    references = [ref for _status, ref, _at in caller.answers]
    saved = TroubleReport.objects.filter(reference__in=references).count()
    assert saved == len(references)
    # ...the work order raised meanwhile was saved, and the answer says dispatch is deferred
    assert order_response.status_code == 201, order_response.content
    assert order_response["X-Tasks-Deferred"] == "1"
    order_id = order_response.json()["id"]
    # ...the look-up answered from the database, /healthz named Redis
    assert lookup.status_code == 200
    assert lookup.json()["matches"][0]["address"] == sps[0].address
    assert health.status_code == 503
    assert health.json()["down"] == ["redis"]

    # ...and once Redis is back, the sweeper (every SWEEP_EVERY s, as beat) and the worker
    # dispatch the order
    def dispatched() -> bool:
        status, crew_id = WorkOrder.objects.values_list("status", "crew_id").get(pk=order_id)
        if status == WorkOrder.Status.DISPATCHED:
            assert crew_id == crew.pk
            return True
        if time.monotonic() >= dispatched.next_sweep:  # type: ignore[attr-defined]
            send_task_safely(work_orders_requeue_stuck_task, (), {})
            dispatched.next_sweep = time.monotonic() + SWEEP_EVERY  # type: ignore[attr-defined]
        return False

    dispatched.next_sweep = time.monotonic()  # type: ignore[attr-defined]
    resumed_after = _wait_for(dispatched, 120, "dispatch after Redis returned")
    figures = {
        "reports_answered": len(statuses),
        "reports_201": statuses.count(201),
        "reports_saved": saved,
        "reports_while_redis_down": during,
        "redis_down_seconds": round(up_at - down_at, 1),
        "dispatch_resumed_seconds_after_redis_returned": round(resumed_after, 1),
        "sweeper_every_seconds": SWEEP_EVERY,
        "stale_after_seconds": STALE_SECONDS,
        "worker_restarts": worker_on_own_redis.restarts,
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "redis_outage.json").write_text(json.dumps(figures, indent=2))
    assert during >= 30
