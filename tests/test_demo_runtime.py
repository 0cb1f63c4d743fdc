"""The embedded demo runs the periodic work, as the README starts it.

``./scripts/demo`` is started on a fresh, temporary ``DISPATCH_VAR_DIR`` and a free ``PORT``,
with no DATABASE_URL / REDIS_URL (SQLite, the file broker, its own Celery worker and beat).
Nobody touches it after one customer's call: the intake's immediate roll-up trigger is turned
off, so only beat's roll-up sweeper can take up the located report (a predicted outage, or a
premise visit), whose repair order the dispatcher engine assigns to a crew; beat's SLA watch
then marks the order's arrival deadline (the SLA policies are shortened to one minute, as an
admin may edit them). Stopping the script stops its worker and server.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.demo

ROOT = Path(__file__).resolve().parents[1]
STARTS_WITHIN_S = 150  # a fresh var: migrations, a small city, static files, worker
SINGLE_PREMISE_DELAY_S = 5
# beat's roll-up sweep runs every 30 s, the SLA watch every 60 s (dispatch_center/celery.py)
ORDER_WITHIN_S = 75
SLA_MARK_WITHIN_S = 100
ASSIGNED = ("dispatched", "accepted", "en_route", "on_site")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(what: str, probe: Callable[[], Any], *, within: float, demo: Demo) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if demo.process.poll() is not None:
            pytest.fail(f"the demo exited ({demo.process.returncode}) before {what}\n{demo.tail()}")
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {within:.0f} s\n{demo.tail()}")


@dataclass
class Demo:
    process: subprocess.Popen
    port: int
    var_dir: Path
    log: Path
    started_in: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        text += [
            repr(row)
            for row in self.query(
                "SELECT id, reference, status, service_point_id, outage_id"
                " FROM outages_troublereport ORDER BY id DESC LIMIT 3"
            )
        ]
        text += [
            repr(row)
            for row in self.query(
                "SELECT id, kind, status, crew_id, sla_state, source_report_id, arrive_warn_at"
                " FROM workorders_workorder ORDER BY id DESC LIMIT 3"
            )
        ]
        celery = self.var_dir / "celery.log"
        worker = celery.read_text(errors="replace").splitlines()[-lines:] if celery.exists() else []
        return "\n".join(["--- demo ---", *text, "--- celery.log ---", *worker])

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        # Read-only, beside the running demo (WAL: readers never block its writers).
        db = sqlite3.connect(f"file:{self.var_dir / 'db.sqlite3'}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/map/", timeout=5) as resp:  # noqa: S310
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False


@pytest.fixture
def demo(tmp_path) -> Iterator[Demo]:
    var_dir = tmp_path / "var"
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(
        DISPATCH_VAR_DIR=str(var_dir),
        PORT=str(_free_port()),
        VENV=sys.prefix,  # the environment running the tests: nothing to install
        PYTHONUNBUFFERED="1",
        OUTAGE_INTAKE_TRIGGER_ROLLUP="false",
        OUTAGE_ROLLUP_SINGLE_PREMISE_DELAY=str(SINGLE_PREMISE_DELAY_S),
    )
    log = tmp_path / "demo.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [
                str(ROOT / "scripts" / "demo"),
                "--service-points",
                "2000",
                "--feeders-per-grid",
                "1",
                "--no-progress",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Demo(process=process, port=int(env["PORT"]), var_dir=var_dir, log=log)
    try:
        _wait_for("the demo answers", running.answers, within=STARTS_WITHIN_S, demo=running)
        running.started_in = time.monotonic() - started
        yield running
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # what Ctrl-C or a service manager does
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=40)
    # Whatever is left of the script's session (it should be nothing) is killed.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _session_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _post_report(demo: Demo, lat: float, lng: float) -> dict:
    body = {"symptom": "no_power", "phone": "13800138000", "channel": "web", "lat": lat, "lng": lng}
    request = urllib.request.Request(  # noqa: S310
        demo.url + "/api/v1/public/reports",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        assert resp.status == 201
        return json.loads(resp.read())


def test_demo_turns_a_call_into_an_assigned_order_and_marks_its_sla_by_itself(demo):
    print(f"demo answered {demo.started_in:.1f} s after start on a fresh var")  # noqa: T201
    # The demo runs a real worker: tasks are not eager, and beat has its schedule.
    wanted = {"workorders-sla-watch", "outages-rollup-sweep", "workorders-offers-expire"}

    def scheduled() -> bool:
        rows = demo.query("SELECT name FROM django_celery_beat_periodictask")
        return wanted <= {name for (name,) in rows}

    _wait_for("beat's schedule", scheduled, within=30, demo=demo)

    # A customer of a demo outage finds it on the map by address (SQLite: no PostgreSQL
    # arrays or trigram search in the look-up's statements)
    [(address,)] = demo.query(
        "SELECT sp.address FROM grids_servicepoint sp JOIN outages_interruption i"
        " ON i.service_point_id = sp.id WHERE i.started_at IS NOT NULL AND i.ended_at IS NULL"
        " ORDER BY sp.id LIMIT 1"
    )
    query = urllib.parse.urlencode({"q": address.removeprefix("深圳市")})
    with urllib.request.urlopen(f"{demo.url}/api/v1/public/lookup?{query}", timeout=30) as resp:  # noqa: S310
        matches = json.loads(resp.read())["matches"]
    assert matches[0]["address"] == address
    assert matches[0]["outage"]["status"]
    assert matches[0]["outage"]["progress"]

    # An admin shortens the arrival commitment to one minute (warning at 10 %)
    db = sqlite3.connect(demo.var_dir / "db.sqlite3", timeout=30)
    with db:
        db.execute("UPDATE workorders_slapolicy SET arrive_minutes = 1, warning_ratio = 0.1")
    db.close()

    # A customer away from every demo outage calls from their location
    [(sp_id, lat, lng)] = demo.query(
        """
        SELECT sp.id, sp.lat, sp.lng FROM grids_servicepoint sp
        JOIN grids_device t ON t.id = sp.transformer_id
        WHERE t.energized AND t.feeder_id NOT IN (
            SELECT d.feeder_id FROM outages_outage o JOIN grids_device d ON d.id = o.device_id
        )
        ORDER BY sp.id LIMIT 1
        """
    )
    answer = _post_report(demo, lat, lng)
    reference = answer["reference"]
    [(report_id,)] = demo.query(
        "SELECT id FROM outages_troublereport WHERE reference = ?", (reference,)
    )

    # Then, with nobody touching anything, beat's roll-up sweep takes up the pending report
    # (a predicted outage, or a premise visit when it stays alone) and the repair order raised
    # for it is assigned to a crew by the dispatcher engine
    def assigned_order() -> tuple | None:
        rows = demo.query(
            "SELECT w.id, w.kind, w.sla_state FROM workorders_workorder w"
            " JOIN outages_troublereport r ON r.id = ?"
            " WHERE (w.source_report_id = r.id OR w.outage_id = r.outage_id)"
            " AND w.crew_id IS NOT NULL AND w.status IN (?, ?, ?, ?)",
            (report_id, *ASSIGNED),
        )
        return rows[0] if rows else None

    order_id, kind, _state = _wait_for(
        "an assigned order for the report", assigned_order, within=ORDER_WITHIN_S, demo=demo
    )
    assert kind in {"outage_repair", "premise_repair"}
    [(report_status, located_at)] = demo.query(
        "SELECT status, service_point_id FROM outages_troublereport WHERE id = ?", (report_id,)
    )
    assert report_status in {"predicted", "single_premise"}
    assert located_at == sp_id

    # and beat's SLA watch marks its arrival deadline (warning at 6 s, breach at 60 s), on the
    # order and in its timeline
    def sla_marked() -> list[tuple]:
        return demo.query(
            "SELECT w.sla_state, e.kind FROM workorders_workorder w"
            " JOIN workorders_workorderevent e ON e.order_id = w.id"
            " WHERE w.id = ? AND e.kind IN ('sla_warning', 'sla_breached')",
            (order_id,),
        )

    marks = _wait_for("the SLA mark", sla_marked, within=SLA_MARK_WITHIN_S, demo=demo)
    assert marks[0][0] in {"warning", "breached"}

    # Stopping the script stops its worker and web server too
    pgid = demo.process.pid
    demo.process.send_signal(signal.SIGTERM)
    demo.process.wait(timeout=40)
    deadline = time.monotonic() + 20
    while _session_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _session_alive(pgid), "the worker or the server outlived ./scripts/demo"
    assert not demo.answers()
