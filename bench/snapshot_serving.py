"""Snapshot requests per second served the recommended way, beside a plain static file.

The README recommends nginx (or a CDN) serving SNAPSHOT_DIR with deploy/nginx.conf. This runs
that very file, with its EDIT lines pointed at a scratch directory and a loopback port, against
a snapshot published by ``outages.publicmap.publishing.publish_snapshot`` (synthetic outages),
and loads it with ``wrk`` (bounded in time, loopback only):

- ``/snapshot/current.json``: the pointer every map polls (ETag, max-age 5 s headers), and
- ``/static/bench/plain.json``: the same bytes as a plain static file (the baseline),

plus the same pair for a versioned file (``v…/outages.geojson``, gzip_static) and its copy
under /static/. The target is current.json at >= 0.8 x the plain file's rate.

nginx and wrk come from Debian: when missing, this script runs ``apt-get install -y nginx``
/ ``wrk`` (and says so). Without wrk it falls back to a Python load generator (keep-alive
connections in threads), which measures both sides the same way but at a lower ceiling.

    .venv/bin/python bench/snapshot_serving.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _synthetic_outages import synthetic_outages  # noqa: E402

from outages.publicmap.publishing import publish_snapshot, read_current, snapshot_files  # noqa: E402

CONF = ROOT / "deploy" / "nginx.conf"
TARGET_RATIO = 0.8


def _ensure_tool(binary: str, package: str) -> str | None:
    found = shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )
    if found:
        return found
    print(f"{binary} is not installed: running apt-get install -y {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    quiet = {"check": True, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", package], **quiet)
    except (OSError, subprocess.CalledProcessError):
        try:
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-qq", package], **quiet)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            print(f"  could not install {package}: {exc} {detail.decode(errors='replace')}")
            return None
    return shutil.which(binary) or (
        f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _render_conf(scratch: Path, snapshot_dir: Path, static_dir: Path, port: int) -> Path:
    """deploy/nginx.conf with its EDIT lines pointed at the scratch directory."""
    text = CONF.read_text()
    replacements = [
        ("user www-data;", ""),  # the master runs as root here; workers as nobody
        ("pid /run/nginx.pid;", f"pid {scratch}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {scratch}/error.log warn;"),
        ("/var/log/nginx/access.log", f"{scratch}/access.log"),
        ("/srv/dispatch-center/staticfiles/", f"{static_dir}/"),
        ("/srv/dispatch-center/var/snapshot/", f"{snapshot_dir}/"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ]
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"deploy/nginx.conf no longer contains {old!r}; update this benchmark")
        text = text.replace(old, new)
    conf = scratch / "nginx.conf"
    conf.write_text(text)
    return conf


def _get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _wrk(wrk: str, url: str, seconds: int, connections: int, gzip: bool) -> float:
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if gzip:
        cmd[1:1] = ["-H", "Accept-Encoding: gzip"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match or "Non-2xx" in out:
        raise SystemExit(f"wrk failed on {url}:\n{out}")
    return float(match.group(1))


def _python_load(port: int, path: str, seconds: int, connections: int, gzip: bool) -> float:
    deadline = time.monotonic() + seconds
    counts = [0] * connections
    headers = {"Accept-Encoding": "gzip"} if gzip else {}

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        while time.monotonic() < deadline:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status}")
            counts[i] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="per run (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per pair")
    parser.add_argument("--outages", type=int, default=200)
    args = parser.parse_args()

    nginx = _ensure_tool("nginx", "nginx")
    if nginx is None:
        print("nginx is not available: cannot measure the recommended serving")
        return 2
    wrk = _ensure_tool("wrk", "wrk")
    generator = "wrk" if wrk else "python threads (wrk unavailable)"

    with tempfile.TemporaryDirectory(prefix="snapshot-serving-") as tmp:
        scratch = Path(tmp)
        scratch.chmod(0o755)  # nginx workers run as nobody
        snapshot_dir, static_dir = scratch / "snapshot", scratch / "static"
        now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
        publish_snapshot(
            snapshot_files(outages=synthetic_outages(args.outages, now=now), generated_at=now),
            directory=snapshot_dir,
            generated_at=now,
        )
        current = read_current(snapshot_dir)
        versioned = current["files"]["outages.geojson"]
        # The baselines: byte-identical copies served as plain static files.
        (static_dir / "bench").mkdir(parents=True)
        shutil.copy(snapshot_dir / "current.json", static_dir / "bench" / "plain.json")
        shutil.copy(snapshot_dir / versioned, static_dir / "bench" / "outages.geojson")
        shutil.copy(snapshot_dir / f"{versioned}.gz", static_dir / "bench" / "outages.geojson.gz")
        for path in [static_dir, static_dir / "bench"]:
            path.chmod(0o755)

        port = _free_port()
        conf = _render_conf(scratch, snapshot_dir, static_dir, port)
        proc = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(scratch), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"nginx did not start: {proc.stderr.read().decode()}")

            # The headers are the point of serving it this way: check them first.
            first = _get(port, "/snapshot/current.json")
            etag = first.getheader("ETag")
            again = _get(port, "/snapshot/current.json", {"If-None-Match": etag})
            immutable = _get(port, f"/snapshot/{versioned}", {"Accept-Encoding": "gzip"})
            hidden = _get(port, "/snapshot/.version")
            version = subprocess.run([nginx, "-v"], capture_output=True, text=True).stderr
            print(
                f"{version.strip().split(': ')[-1]} with deploy/nginx.conf on 127.0.0.1:{port}; "
                f"load: {generator}, "
                f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds"
            )
            print(
                f"  current.json: {first.status} Cache-Control: {first.getheader('Cache-Control')}"
                f"; ETag {etag}; If-None-Match -> {again.status}"
            )
            print(
                f"  {versioned}: {immutable.status} Cache-Control: "
                f"{immutable.getheader('Cache-Control')}; Content-Encoding: "
                f"{immutable.getheader('Content-Encoding')}"
            )
            print(f"  /snapshot/.version -> {hidden.status}")

            pairs = [
                ("current.json", "/snapshot/current.json", "/static/bench/plain.json", False),
                (
                    "outages.geojson (gzip)",
                    f"/snapshot/{versioned}",
                    "/static/bench/outages.geojson",
                    True,
                ),
            ]
            results = []
            for label, snap_path, plain_path, gz in pairs:
                snap_rates, plain_rates = [], []
                for _ in range(args.rounds):
                    for path, bucket in ((plain_path, plain_rates), (snap_path, snap_rates)):
                        if wrk:
                            rate = _wrk(
                                wrk,
                                f"http://127.0.0.1:{port}{path}",
                                args.seconds,
                                args.connections,
                                gz,
                            )
                        else:
                            rate = _python_load(port, path, args.seconds, args.connections, gz)
                        bucket.append(rate)
                snap, plain = statistics.median(snap_rates), statistics.median(plain_rates)
                results.append((label, snap, plain))
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"  {'file':<24}{'snapshot req/s':>16}{'plain static req/s':>20}{'ratio':>8}")
    for label, snap, plain in results:
        print(f"  {label:<24}{snap:>16,.0f}{plain:>20,.0f}{snap / plain:>8.2f}")
    label, snap, plain = results[0]
    ratio = snap / plain
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(
        f"snapshot current.json served at {ratio:.2f} x a plain static file "
        f"(target >= {TARGET_RATIO}: {verdict} the target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
