"""The storm drill's load: callers, map clients, the snapshot watcher and the memory sampler.

Threads of plain ``http.client`` against the drill's gunicorn. Every caller and map client
comes through the trusted proxy (``X-Forwarded-For``) with an address of its own, as a city's
phones would; the drill records what each request got and how long it took.
"""

from __future__ import annotations

import heapq
import http.client
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from bench._drill_plan import Call


def _address(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def request(
    port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None
) -> tuple[int, bytes, dict[str, str], float]:
    """One request on a fresh connection: (status, body, headers, seconds); status 0 on a
    connection error."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers={**h, **(headers or {})})
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, payload, dict(resp.getheaders()), time.perf_counter() - started
    except OSError:
        return 0, b"", {}, time.perf_counter() - started
    finally:
        conn.close()


@dataclass
class SentCall:
    call: Call
    key: str
    sent_at: float  # wall clock (time.time())
    status: int
    seconds: float
    reference: str = ""


class Callers:
    """Sends the storm's calls at their wall times from ``threads`` threads."""

    def __init__(self, port: int, token: str, calls: list[Call], wall_per_minute: float):
        self.port, self.token = port, token
        self.schedule = [(c.minute * wall_per_minute, i, c) for i, c in enumerate(calls)]
        heapq.heapify(self.schedule)
        self.lock = threading.Lock()
        self.sent: list[SentCall] = []
        self.rng = random.Random(7)
        self.addresses: dict[int, str] = {}

    def _body(self, call: Call) -> tuple[str, dict, dict]:
        c = call.customer
        phone = f"139{c.id % 100_000_000:08d}"
        if call.channel == "hotline":
            return (
                "/api/v1/reports",
                {
                    "account_no": c.account_no,
                    "symptom": call.symptom,
                    "phone": phone,
                    "channel": "hotline",
                },
                self._staff(),
            )
        if call.channel == "app":
            return (
                "/api/v1/reports",
                {
                    "lat": c.lat,
                    "lng": c.lng,
                    "symptom": call.symptom,
                    "phone": phone,
                    "channel": "app",
                },
                self._staff(),
            )
        with self.lock:
            addr = self.addresses.setdefault(c.id, _address(self.rng))
        located = {"address": c.address} if c.id % 2 else {"account_no": c.account_no}
        body = {**located, "symptom": call.symptom, "phone": phone}
        return "/api/v1/public/reports", body, {"X-Forwarded-For": addr}

    def _staff(self) -> dict:
        return {"Authorization": f"Token {self.token}"}

    def run(self, t0: float, threads: int = 12) -> None:
        def worker() -> None:
            while True:
                with self.lock:
                    if not self.schedule:
                        return
                    at, _, call = heapq.heappop(self.schedule)
                delay = t0 + at - time.time()
                if delay > 0:
                    time.sleep(delay)
                path, body, headers = self._body(call)
                key = uuid.uuid4().hex
                sent_at = time.time()
                status, payload, _, seconds = request(
                    self.port, "POST", path, body, {**headers, "Idempotency-Key": key}
                )
                ref = ""
                if status in (200, 201):
                    try:
                        ref = json.loads(payload).get("reference", "")
                    except ValueError:
                        ref = ""
                with self.lock:
                    self.sent.append(SentCall(call, key, sent_at, status, seconds, ref))

        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()


@dataclass
class MapStats:
    requests: int = 0
    errors: int = 0
    seconds: list[float] = field(default_factory=list)
    lookup_seconds: list[float] = field(default_factory=list)
    lookups: int = 0


class MapClients:
    """About ``rate`` requests a second: map pages polling ``current.json`` with their ETag
    (and fetching the files a new version names) and address look-ups from ``queries``."""

    def __init__(self, port: int, rate: float, queries: list[str], prefix: str = "/snapshot/"):
        self.port, self.rate, self.queries, self.prefix = port, rate, queries, prefix
        self.stats = MapStats()
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def _record(self, status: int, seconds: float, ok: tuple[int, ...], lookup: bool) -> None:
        with self.lock:
            self.stats.requests += 1
            self.stats.seconds.append(seconds)
            if lookup:
                self.stats.lookups += 1
                self.stats.lookup_seconds.append(seconds)
            if status not in ok:
                self.stats.errors += 1

    def _client(self, seed: int, interval: float) -> None:
        rng = random.Random(seed)
        etag, version = "", None
        addr = _address(rng)
        next_at = time.time() + rng.random() * interval
        while not self.stop.is_set():
            delay = next_at - time.time()
            if delay > 0 and self.stop.wait(delay):
                return
            next_at += interval
            if rng.random() < 0.3:
                q = quote(rng.choice(self.queries))
                status, _, _, s = request(
                    self.port,
                    "GET",
                    f"/api/v1/public/lookup?q={q}",
                    None,
                    {"X-Forwarded-For": _address(rng)},
                )
                self._record(status, s, (200,), lookup=True)
                continue
            headers = {"X-Forwarded-For": addr, **({"If-None-Match": etag} if etag else {})}
            status, body, h, s = request(
                self.port, "GET", self.prefix + "current.json", None, headers
            )
            self._record(status, s, (200, 304), lookup=False)
            if status != 200:
                continue
            etag = h.get("ETag", "")
            try:
                current = json.loads(body)
            except ValueError:
                continue
            if current.get("version") == version:
                continue
            version = current.get("version")
            for name in current.get("files", {}).values():
                status, _, _, s = request(
                    self.port, "GET", self.prefix + name, None, {"X-Forwarded-For": addr}
                )
                self._record(status, s, (200,), lookup=False)

    def start(self, clients: int = 16) -> list[threading.Thread]:
        interval = clients / max(self.rate, 0.1)
        pool = [
            threading.Thread(target=self._client, args=(i, interval), daemon=True)
            for i in range(clients)
        ]
        for t in pool:
            t.start()
        return pool


class SnapshotWatcher:
    """Reads ``current.json`` every second; for each outage id, when it first appeared."""

    def __init__(self, port: int, prefix: str = "/snapshot/"):
        self.port, self.prefix = port, prefix
        self.first_seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.version = None

    def _poll(self) -> None:
        status, body, _, _ = request(self.port, "GET", self.prefix + "current.json")
        if status != 200:
            return
        current = json.loads(body)
        if current.get("version") == self.version:
            return
        self.version = current.get("version")
        seen = time.time()
        for name, path in current.get("files", {}).items():
            if not name.startswith("outages"):
                continue
            status, data, _, _ = request(self.port, "GET", self.prefix + path)
            if status == 200:
                for feature in json.loads(data).get("features", []):
                    self.first_seen.setdefault(int(feature["properties"]["id"]), seen)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self._poll()
            except (ValueError, KeyError):
                continue


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Peak resident memory (sum over each process tree) per named process, every 2 s."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.peak_mib: dict[str, float] = dict.fromkeys(pids, 0.0)
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                mib = sum(_rss_kib(p) for p in _tree(pid)) / 1024
                self.peak_mib[name] = max(self.peak_mib[name], round(mib, 1))
            if self.stop.wait(2.0):
                return
