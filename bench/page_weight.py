"""First-load weight of the public outage map without tiles (target: <= 300 KB as served).

Runs the application in-process the way production serves it (DEBUG off, collectstatic into a
scratch STATIC_ROOT, whitenoise serving the precompressed .gz twins), publishes a synthetic
snapshot, loads /map/ in headless Chromium (Debian's /usr/bin/chromium via Playwright, a phone
viewport, empty cache) and sums every response the page loads: HTML, CSS, JS, JSON. Tile
requests (anything off this machine) are aborted and not counted.

"As served" is the body on the wire: the encoded size when the server already compressed it
(whitenoise's .gz, the snapshot's .gz twins); otherwise the gzip -5 size that nginx's
on-the-fly gzip (deploy/nginx.conf) would send, for Django's HTML and the JS catalog.

    .venv/bin/python bench/page_weight.py [--outages 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET_BYTES = 300 * 1024
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/geo+json")


def _serve(scratch: Path, outages: int) -> tuple[str, object]:
    """Configure Django for production-like serving in ``scratch`` and start a WSGI server."""
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)  # the embedded mode: SQLite, local-memory cache
    os.environ["DJANGO_SETTINGS_MODULE"] = "dispatch_center.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DISPATCH_VAR_DIR"] = str(scratch / "var")
    os.environ["SNAPSHOT_DIR"] = str(scratch / "snapshot")

    import django
    from django.conf import settings

    django.setup()
    settings.STATIC_ROOT = scratch / "static"
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False

    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("collectstatic", interactive=False, verbosity=0)

    from _synthetic_outages import synthetic_outages

    from outages.publicmap.publishing import publish_snapshot, snapshot_files

    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    publish_snapshot(
        snapshot_files(outages=synthetic_outages(outages, now=now), generated_at=now),
        directory=settings.SNAPSHOT_DIR,
        generated_at=now,
    )

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def _measure(base_url: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows: list[dict] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        blocked: list[str] = []

        def route(route) -> None:
            if urlparse(route.request.url).hostname in {"127.0.0.1", "localhost"}:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        def finished(request) -> None:
            response = request.response()
            if response is None:
                return
            sizes = request.sizes()
            body = response.body()
            headers = response.headers
            encoding = headers.get("content-encoding", "")
            ctype = headers.get("content-type", "").split(";")[0]
            if encoding:
                served = sizes["responseBodySize"]
            elif ctype.startswith(COMPRESSIBLE) and len(body) >= 256:
                served = len(gzip.compress(body, 5, mtime=0))
            else:
                served = len(body)
            rows.append(
                {
                    "url": request.url,
                    "type": ctype,
                    "status": response.status,
                    "raw": len(body),
                    "served": served,
                    "encoding": encoding or "(gzip -5 by nginx)",
                }
            )

        page.route("**/*", route)
        page.on("requestfinished", finished)
        page.goto(base_url + "/map/", wait_until="load")
        page.wait_for_function("document.documentElement.dataset.mapReady === '1'")
        page.wait_for_load_state("networkidle")
        browser.close()
    print(f"  (aborted {len(blocked)} tile requests, not counted)")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--outages", type=int, default=50, help="active outages in the snapshot (default 50)"
    )
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium")
        return 2
    with tempfile.TemporaryDirectory(prefix="page-weight-") as tmp:
        base_url, server = _serve(Path(tmp), args.outages)
        try:
            print(f"public map first load, {args.outages} active outages, phone viewport, no tiles")
            rows = _measure(base_url)
        finally:
            server.shutdown()
    print(f"  {'resource':<52}{'raw':>10}{'served':>10}  encoding")
    for row in sorted(rows, key=lambda r: -r["served"]):
        path = urlparse(row["url"]).path
        print(f"  {path[-52:]:<52}{row['raw']:>10,}{row['served']:>10,}  {row['encoding']}")
    raw = sum(r["raw"] for r in rows)
    served = sum(r["served"] for r in rows)
    print(f"  {'total (' + str(len(rows)) + ' responses)':<52}{raw:>10,}{served:>10,}")
    verdict = "meets" if served <= TARGET_BYTES else "MISSES"
    print(
        f"first-load weight {served / 1024:.1f} KB = {served / TARGET_BYTES:.2f} x the 300 KB "
        f"target ({verdict} the target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
