"""The public outage map in a real browser, with fake data and without map tiles.

The outage picture comes from a snapshot each test publishes with ``publish_snapshot`` into a
temporary SNAPSHOT_DIR. The public API does not exist yet: the tests of searching and
reporting answer its requests with contract-shaped bodies (shared API.md) through Playwright's
routing, so they check that the page depends on nothing but the contract.
"""

import datetime as dt
import json
import re

import pytest

from grids.geodata import DISTRICTS
from outages.publicmap import coords
from outages.publicmap.publishing import publish_snapshot, snapshot_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def _outage(outage_id: int, lat: float, lng: float, customers: int, **overrides) -> dict:
    """A fake active outage with a small 24-vertex area around (lat, lng)."""
    import math

    ring = [
        [
            round(lng + 0.003 * math.cos(2 * math.pi * k / 24), 5),
            round(lat + 0.0025 * math.sin(2 * math.pi * k / 24), 5),
        ]
        for k in range(24)
    ]
    ring.append(ring[0])
    row = {
        "id": outage_id,
        "category": "fault",
        "type": "line_fault",
        "type_name": "线路故障",
        "type_name_en": "Line fault",
        "status": "crew_on_site",
        "cause": "tree",
        "cause_name": "树障",
        "cause_name_en": "Tree contact",
        "started_at": NOW - dt.timedelta(hours=1),
        "etr": NOW + dt.timedelta(hours=2),
        "customers_affected": customers,
        "district": "440304",
        "crew_status": "on_site",
        "lat": lat,
        "lng": lng,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    row.update(overrides)
    return row


def _publish(directory, outages) -> int:
    return publish_snapshot(
        snapshot_files(outages=outages, generated_at=NOW), directory=directory, generated_at=NOW
    )


def test_map_loads_without_console_errors_and_draws_districts_without_tiles(any_page, snapshot_dir):
    # Given a published snapshot and no reachable tile server
    _publish(snapshot_dir, [_outage(1, 22.5431, 114.0579, 1234)])
    # When the map page loads
    any_page.goto("/map/")
    any_page.wait_for_map()
    page = any_page.page
    # Then every district outline is drawn from the project's own data
    assert page.locator("path.district-outline").count() == len(DISTRICTS)
    assert page.locator(".district-label", has_text="福田区").count() == 1
    # and the page says the tiles are unavailable instead of showing a blank map
    page.wait_for_selector("#map-notice:not([hidden])")
    assert page.locator("#map.tiles-offline").count() == 1
    assert any_page.blocked, "tile requests should have been attempted and blocked"
    any_page.screenshot()
    assert any_page.console_errors == []


def test_map_shows_outage_area_and_summary_from_the_snapshot(desktop_page, snapshot_dir):
    # Given one fault outage in 福田区 and one planned outage in 南山区
    _publish(
        snapshot_dir,
        [
            _outage(1, 22.5431, 114.0579, 1234),
            _outage(2, 22.5330, 113.9300, 56, category="planned", district="440305", cause=None),
        ],
    )
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    page = desktop_page.page

    # Then the summary shows the totals and the districts with outages
    assert page.locator("#stat-outages").inner_text() == "2"
    assert page.locator("#stat-customers").inner_text() == "1,290"
    rows = page.locator("#district-rows tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().startswith("福田区")
    assert "数据更新于" in page.locator("#updated").inner_text()

    # At city zoom the outages are markers; clicking one zooms in to its area
    markers = page.locator(".outage-cluster")
    assert markers.count() == 2
    # and clicking the area shows its details
    popup = desktop_page.open_outage_area_popup("fault")
    assert page.locator(".outage-cluster").count() == 0
    assert page.locator("path.outage-area.cat-fault").count() == 1
    text = popup.inner_text()
    assert "线路故障" in text
    assert "树障" in text
    assert "1,234" in text
    desktop_page.screenshot()
    assert desktop_page.console_errors == []


def test_map_picks_up_a_new_snapshot_version(phone_page, snapshot_dir):
    first = _publish(snapshot_dir, [_outage(1, 22.5431, 114.0579, 10)])
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page
    assert page.evaluate("document.documentElement.dataset.snapshotVersion") == str(first)

    # When a new version is published and the page polls (normally every 30 s)
    second = _publish(
        snapshot_dir,
        [_outage(1, 22.5431, 114.0579, 10), _outage(2, 22.7, 114.25, 700, district="440307")],
    )
    page.evaluate("window.OutageMap.poll()")
    page.wait_for_function(f"document.documentElement.dataset.snapshotVersion === '{second}'")
    # Then the summary and the markers follow
    assert page.locator("#stat-customers").inner_text() == "710"
    assert page.locator(".outage-cluster").count() == 2
    assert phone_page.console_errors == []


def test_map_without_any_snapshot_stays_usable(phone_page, snapshot_dir):
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page
    assert page.locator("path.district-outline").count() == len(DISTRICTS)
    assert "停电数据正在生成" in page.locator("#updated").inner_text()
    # The only console error is the 404 of the missing current.json itself.
    assert all("current.json" in e or "404" in e for e in phone_page.console_errors)


def test_language_switch_turns_the_page_english(any_page, snapshot_dir):
    _publish(snapshot_dir, [_outage(1, 22.5431, 114.0579, 1234)])
    any_page.goto("/map/")
    any_page.wait_for_map()
    page = any_page.page
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # When the visitor picks English in the header's language form
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    any_page.wait_for_map()

    # Then the page, its JS strings and the district names are English
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title().startswith("Outage map")
    assert page.locator("#search-title").inner_text() == "Is my power out?"
    assert page.locator("#updated").inner_text().startswith("Updated at")
    assert page.locator(".district-label", has_text="Futian").count() == 1
    assert page.locator("#district-rows tr").first.inner_text().startswith("Futian")
    any_page.screenshot()
    assert any_page.console_errors == []


def test_report_form_shows_phone_error_without_submitting(any_page, snapshot_dir):
    _publish(snapshot_dir, [])
    posted = []
    any_page.page.route(
        re.compile(r".*/api/v1/public/reports.*"),
        lambda route: posted.append(route) or route.abort(),
    )
    any_page.goto("/map/")
    any_page.wait_for_map()
    page = any_page.page

    # When a bad phone number is entered and the form submitted
    page.click("[data-open-report]")
    page.fill("#report-location", "福田区福华路88号")
    page.fill("#report-phone", "12345")
    page.click("#report-submit")

    # Then the error shows beside the phone field and nothing was sent
    error = page.locator("#report-phone-error")
    error.wait_for(state="visible")
    assert "手机号码" in error.inner_text()
    assert page.locator("#report-phone").get_attribute("aria-invalid") == "true"
    assert posted == []
    any_page.screenshot(full_page=False)

    # And a valid number clears the error
    page.fill("#report-phone", "13812345678")
    page.locator("#report-phone").blur()
    assert page.locator("#report-phone-error").is_hidden()
    assert any_page.console_errors == []


# --- search and reporting against contract-shaped answers (the API is being built) ----------

LOOKUP_ANSWER = {
    "matches": [
        {
            "address": "福田区福华路88号",
            "district": "福田区",
            "lat": 22.5431,
            "lng": 114.0579,
            "outage": {
                "id": 1,
                "category": "fault",
                "type": "线路故障",
                "status": "crew_on_site",
                "cause": "树障",
                "started_at": (NOW - dt.timedelta(hours=1)).isoformat(),
                "etr": (NOW + dt.timedelta(hours=2)).isoformat(),
                "customers_affected": 1234,
                "progress": [
                    {"status": "confirmed", "at": (NOW - dt.timedelta(minutes=50)).isoformat()},
                    {"status": "crew_on_site", "at": (NOW - dt.timedelta(minutes=10)).isoformat()},
                ],
                "crew": {"status": "on_site", "lat": 22.544, "lng": 114.058},
            },
            "planned": [
                {
                    "id": 9,
                    "starts_at": (NOW + dt.timedelta(days=2)).isoformat(),
                    "ends_at": (NOW + dt.timedelta(days=2, hours=4)).isoformat(),
                    "reason": "线路检修",
                }
            ],
        },
        {
            "address": "福田区福华路90号",
            "district": "福田区",
            "lat": 22.5433,
            "lng": 114.0583,
            "outage": None,
            "planned": [],
        },
    ]
}


def _fulfil_json(route, status: int, body: dict) -> None:
    route.fulfill(status=status, content_type="application/json", body=json.dumps(body))


def test_search_suggests_addresses_and_answers_with_the_outage(desktop_page, snapshot_dir):
    _publish(snapshot_dir, [_outage(1, 22.5431, 114.0579, 1234)])
    queries = []

    def lookup(route):
        queries.append(route.request.url)
        _fulfil_json(route, 200, LOOKUP_ANSWER)

    desktop_page.page.route(re.compile(r".*/api/v1/public/lookup\?.*"), lookup)
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    page = desktop_page.page

    # When the visitor types an address fragment
    page.fill("#search-input", "福华路")
    suggestions = page.locator("#search-suggestions li")
    suggestions.first.wait_for()
    assert suggestions.count() == 2
    assert "q=%E7%A6%8F%E5%8D%8E%E8%B7%AF" in queries[-1]

    # and picks the first suggestion
    suggestions.first.click()
    result = page.locator("#result")
    result.wait_for(state="visible")
    text = result.inner_text()
    assert "该地址目前处于停电中" in text
    assert "树障" in text
    assert "抢修队伍：已到达现场" in text
    assert "线路检修" in text  # the planned outage in the next 7 days
    assert page.locator(".progress-steps li").count() == 2
    assert page.locator(".crew-marker").count() == 1
    desktop_page.screenshot()
    assert desktop_page.console_errors == []


def test_report_is_posted_per_contract_and_shows_the_reference(phone_page, snapshot_dir):
    _publish(snapshot_dir, [])
    requests = []

    def reports(route):
        requests.append(route.request)
        if len(requests) == 1:
            _fulfil_json(
                route,
                400,
                {
                    "error": {
                        "code": "invalid",
                        "message": "输入有误",
                        "fields": {"address": ["无法识别的地址"]},
                    }
                },
            )
        else:
            _fulfil_json(
                route,
                201,
                {
                    "reference": "R20260701-0042",
                    "status": "merged",
                    "outage": LOOKUP_ANSWER["matches"][0]["outage"],
                    "message": "您所在区域的停电已知，抢修人员正在处理。",
                },
            )

    phone_page.page.route(re.compile(r".*/api/v1/public/reports$"), reports)
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page

    page.click("[data-open-report]")
    page.fill("#report-location", "某个不存在的地址")
    page.check("input[name=symptom][value=no_power]")
    page.fill("#report-phone", "0755-83838383")
    page.fill("#report-description", "整栋楼停电")
    page.click("#report-submit")

    # The server's field error shows beside the location field
    location_error = page.locator("#report-location-error")
    location_error.wait_for(state="visible")
    assert location_error.inner_text() == "无法识别的地址"

    # When corrected and sent again
    page.fill("#report-location", "福田区福华路88号")
    page.click("#report-submit")
    page.locator("#report-done").wait_for(state="visible")

    first, second = requests
    body = json.loads(second.post_data)
    assert body == {
        "symptom": "no_power",
        "phone": "0755-83838383",
        "channel": "web",
        "description": "整栋楼停电",
        "address": "福田区福华路88号",
    }
    headers = second.headers
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["idempotency-key"])
    # A refused submission is not replayed: the corrected one is a new submission.
    assert headers["idempotency-key"] != first.headers["idempotency-key"]
    assert headers["x-csrftoken"]
    assert page.locator("#report-reference").inner_text() == "R20260701-0042"
    assert "树障" in page.locator("#report-outage").inner_text()
    assert page.locator("#report-track-link").get_attribute("href") == "/map/report/R20260701-0042"
    phone_page.screenshot(full_page=False)
    assert phone_page.console_errors == [e for e in phone_page.console_errors if "400" in e]


def test_tracking_page_shows_the_report_progress(phone_page):
    phone_page.page.route(
        re.compile(r".*/api/v1/public/reports/R20260701-0042$"),
        lambda route: _fulfil_json(
            route,
            200,
            {
                "reference": "R20260701-0042",
                "status": "merged",
                "outage": LOOKUP_ANSWER["matches"][0]["outage"],
                "message": "抢修人员正在处理。",
            },
        ),
    )
    phone_page.goto("/map/report/R20260701-0042")
    page = phone_page.page
    page.locator(".outage-card").wait_for()
    text = page.locator("#track").inner_text()
    assert "已合并" in text
    assert "抢修人员正在处理" in text
    assert page.locator(".progress-steps li").count() == 2
    phone_page.screenshot()
    assert phone_page.console_errors == []


def test_js_coordinate_conversion_mirrors_python(phone_page, snapshot_dir):
    _publish(snapshot_dir, [])
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    points = [(22.543847, 113.912316), (22.5431, 114.0579), (22.72, 114.25), (51.5, -0.12)]
    for lat, lng in points:
        js = phone_page.page.evaluate(f"window.OutageCoords.wgs84ToGcj02({lat}, {lng})")
        assert js == pytest.approx(list(coords.wgs84_to_gcj02(lat, lng)), abs=1e-12)
        g_lat, g_lng = coords.wgs84_to_gcj02(lat, lng)
        back = phone_page.page.evaluate(f"window.OutageCoords.gcj02ToWgs84({g_lat}, {g_lng})")
        assert back == pytest.approx([lat, lng], abs=1e-9)
