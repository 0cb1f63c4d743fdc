"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server.

No browser is downloaded: the tests use /usr/bin/chromium and are skipped with a message when
it is missing. Every request that leaves the machine (map tiles) is aborted, so the tests never
depend on the internet; console errors caused by those aborted requests are ignored, every
other console error is collected for the tests to assert on. Screenshots go to
``test-artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would then refuse the
# ORM calls of the fixtures (flushing the live server's database) as "async unsafe".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 800}}


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in {"data", "blob", "about"} or parsed.hostname in LOCAL_HOSTS


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is not installed (Debian package 'chromium'); browser tests skipped"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def snapshot_dir(settings, tmp_path) -> Path:
    """An empty snapshot directory the live server serves under /snapshot/."""
    directory = tmp_path / "snapshot"
    directory.mkdir()
    settings.SNAPSHOT_DIR = directory
    return directory


@dataclass
class BrowserPage:
    """A page in a fresh context, with the console errors it logged and a screenshot helper."""

    page: object
    base_url: str
    name: str
    console_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def wait_for_map(self) -> None:
        """Wait until the snapshot is drawn and the map has finished fitting the city."""
        self.page.wait_for_function("document.documentElement.dataset.mapReady === '1'")

    def wait_for_map_idle(self, outage_layer: str | None = None) -> None:
        """Wait until the map stands still (no pan or zoom animation running), and, when
        ``outage_layer`` is given ("markers" or "areas"), the outages are drawn that way.

        map.js sets ``data-map-state`` from Leaflet's movestart/moveend and
        ``data-outage-layer`` when it draws the outages.
        """
        condition = "document.documentElement.dataset.mapState === 'idle'"
        if outage_layer is not None:
            condition += f" && document.documentElement.dataset.outageLayer === '{outage_layer}'"
        self.page.wait_for_function(condition)

    def open_outage_area_popup(self, category: str) -> object:
        """Click the outage marker of ``category``, wait for the map to zoom in and draw the
        areas, click the area and return the popup once it has faded in."""
        page = self.page
        self.wait_for_map_idle(outage_layer="markers")
        page.locator(f".outage-cluster.cat-{category}").first.click()
        self.wait_for_map_idle(outage_layer="areas")
        box = page.locator(f"path.outage-area.cat-{category}").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        # Opening a popup may pan the map to show it; then its fade-in runs to full opacity.
        self.wait_for_map_idle()
        page.wait_for_function(
            "(() => { const p = document.querySelector('.leaflet-popup');"
            " return p !== null && getComputedStyle(p).opacity === '1'; })()"
        )
        return popup

    def wait_for_paint(self) -> None:
        """Wait until the browser has laid out and painted the current state (two animation
        frames), e.g. after a viewport change, before a screenshot."""
        self.page.evaluate(
            "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )

    def screenshot(self, label: str = "", *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.name}-{label}" if label else self.name)
        path = ARTIFACTS / f"{stem}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def _open_page(browser, live_server, request, viewport: str) -> Iterator[BrowserPage]:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    wrapper = BrowserPage(
        page=page, base_url=live_server.url, name=f"{request.node.originalname}-{viewport}"
    )

    def on_console(message) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if url and not _is_local(url):
            return  # an aborted tile request: expected, there is no internet here
        wrapper.console_errors.append(f"{message.text} ({url})")

    def route(route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            wrapper.blocked.append(route.request.url)
            route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: wrapper.console_errors.append(f"uncaught: {exc}"))
    page.route("**/*", route)
    try:
        yield wrapper
    finally:
        context.close()


@pytest.fixture
def phone_page(browser, live_server, request) -> Iterator[BrowserPage]:
    yield from _open_page(browser, live_server, request, "phone")


@pytest.fixture
def desktop_page(browser, live_server, request) -> Iterator[BrowserPage]:
    yield from _open_page(browser, live_server, request, "desktop")


@pytest.fixture(params=list(VIEWPORTS))
def any_page(browser, live_server, request) -> Iterator[BrowserPage]:
    yield from _open_page(browser, live_server, request, request.param)
