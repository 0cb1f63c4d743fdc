"""The public map's search for places, report tracking, outage list, share links, planned layer
and locate-me, in a real browser against the real public API (no map tiles)."""

import datetime as dt

import pytest
from django.test import Client

from grids.gazetteer import PlaceRow
from grids.services.places import place_import
from outages.models import TroubleReport
from outages.publicmap.publishing import publish_snapshot, snapshot_files
from outages.tests.conftest import build_network
from outages.tests.test_public_api import _declare
from tests.browser.test_public_map import NOW, _outage, _publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _places(*rows):
    place_import(rows=[PlaceRow(*r) for r in rows])


def _search(bp, text):
    """Type ``text``, wait for the suggestions, then click 查询 (the input loses focus first)."""
    page = bp.page
    page.fill("#search-input", text)
    page.wait_for_function("document.documentElement.dataset.search === 'done'")
    page.locator("#search-form button[type=submit]").click()
    # The submit handler marks the look-up busy at once; wait for its answer, not the typed one's
    page.wait_for_function("document.documentElement.dataset.search === 'done'")
    page.locator("#result").wait_for(state="visible")


def test_search_button_with_several_suggestions_shows_the_best_and_the_others(
    any_page, snapshot_dir
):
    # Given a published map and several places called 莲花山…
    _publish(snapshot_dir, [])
    _places(
        ("place", "莲花山公园", "福田区红荔路6030号", 22.5537, 114.0573, "福田区"),
        ("place", "莲花山1号亭", "福田区莲花山公园内", 22.5551, 114.0570, "福田区"),
        ("place", "莲花山2号亭", "福田区莲花山公园内", 22.5561, 114.0580, "福田区"),
    )
    any_page.goto("/map/")
    any_page.wait_for_map()
    page = any_page.page
    # When the visitor types, sees the suggestions and clicks 查询 instead of one of them
    page.fill("#search-input", "莲花山")
    page.locator("#search-suggestions li").nth(2).wait_for()
    page.locator("#search-form button[type=submit]").click()
    # Then the best match is shown at once, with the others listed below it
    result = page.locator("#result")
    result.wait_for(state="visible")
    assert result.locator("h2").inner_text() == "莲花山公园"
    assert "莲花山公园：附近 0 处停电" in result.inner_text()
    assert "找到 3 处匹配" in page.locator("#search-status").inner_text()
    others = page.locator("#other-matches li")
    assert others.count() == 2
    # and the suggestion list is closed, not left hanging
    assert page.locator("#search-suggestions").is_hidden()
    # Choosing another one shows it
    others.nth(1).click()
    page.wait_for_function("document.querySelector('#result h2').textContent === '莲花山2号亭'")
    any_page.wait_for_map_idle()
    assert page.locator(".match-marker").count() == 1
    assert any_page.console_errors == []


def test_a_place_lists_the_outages_around_it(desktop_page, snapshot_dir):
    # Given two outages in 福田区 and the sub-district they are in
    net = build_network()
    _declare(net, "FU")
    _declare(net, "S2")
    _places(("sub_district", "园岭街道", "福田区园岭街道", 22.541, 114.051, "福田区"))
    _publish(snapshot_dir, [])
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    # When the visitor looks the sub-district up
    _search(desktop_page, "园岭街道")
    page = desktop_page.page
    # Then the answer says how many outages are around it and shows them
    assert page.locator("#place-nearby").inner_text() == "园岭街道：附近 2 处停电"
    assert page.locator("#result .outage-card").count() == 2
    desktop_page.wait_for_map_idle()
    assert page.locator("path.place-radius").count() == 1
    # In English too (the place's own name stays as it is)
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    desktop_page.wait_for_map()
    _search(desktop_page, "园岭街道")
    assert page.locator("#place-nearby").inner_text() == "园岭街道: 2 outages nearby"
    meta = page.locator("#result .result-head p").inner_text()
    assert meta.startswith("Sub-district · Futian")
    assert desktop_page.console_errors == []


def test_no_match_says_so(phone_page, snapshot_dir):
    _publish(snapshot_dir, [])
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    _search(phone_page, "火星基地九十九号")
    page = phone_page.page
    assert page.locator("#no-match").inner_text() == "未找到匹配的地址。"
    assert "没有找到这个地址或户号" in page.locator("#search-status").inner_text()
    assert phone_page.console_errors == []


def test_report_tracking_field_shows_the_status(phone_page, snapshot_dir):
    # Given a report filed through the public API
    _publish(snapshot_dir, [])
    answer = Client().post(
        "/api/v1/public/reports",
        {"address": "深圳市福田区某某路1号", "symptom": "no_power", "phone": "13800138000"},
        content_type="application/json",
    )
    assert answer.status_code == 201
    reference = answer.json()["reference"]
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page
    # When its reference is typed (in lower case) into the tracking field
    page.fill("#track-inline-input", reference.lower())
    page.locator("#track-inline-form button").click()
    page.wait_for_function("document.documentElement.dataset.tracking === 'done'")
    # Then its status is shown, with a link to the full tracking page
    text = page.locator("#track-inline-result").inner_text()
    status = TroubleReport.objects.get(reference=reference).get_status_display()
    assert f"当前状态 {status}" in text
    assert page.locator(f"#track-inline-result a[href$='{reference}']").count() == 1
    # An unknown reference is said to be unknown
    page.fill("#track-inline-input", "R20990101-XXXX")
    page.locator("#track-inline-form button").click()
    page.wait_for_function(
        "document.querySelector('#track-inline-result').textContent.includes('没有找到这个报修编号')"
    )
    # (the browser logs the 404 answer itself; nothing else may fail)
    assert [e for e in phone_page.console_errors if "status of 404" not in e] == []


def test_outage_list_and_areas_at_city_zoom(desktop_page, snapshot_dir):
    _publish(
        snapshot_dir,
        [
            _outage(1, 22.5431, 114.0579, 40),
            _outage(2, 22.7, 114.25, 700, district="440307", crew_status=None, cause=None),
        ],
    )
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    desktop_page.wait_for_map_idle(outage_layer="markers")
    page = desktop_page.page
    # At city zoom the areas are drawn under the markers
    assert page.locator(".outage-cluster").count() == 2
    assert page.locator("path.outage-area").count() == 2
    # The list shows the biggest first, with area, cause, ETR and crew status
    items = page.locator("#outage-list li")
    assert items.count() == 2
    first, second = items.nth(0).inner_text(), items.nth(1).inner_text()
    assert first.startswith("龙岗区 · 线路故障")
    assert "正在查明" in first
    assert "暂无信息" in first
    assert "树障" in second
    assert "已到达现场" in second
    assert "预计恢复" in second
    # Choosing one opens its area's details
    items.nth(1).locator(".outage-open").click()
    page.wait_for_function("document.documentElement.dataset.openOutage === '1'")
    assert "树障" in page.locator(".leaflet-popup-content").inner_text()
    assert desktop_page.console_errors == []


def test_share_link_opens_the_outage(any_page, snapshot_dir):
    _publish(snapshot_dir, [_outage(1, 22.5431, 114.0579, 40), _outage(2, 22.7, 114.25, 700)])
    any_page.goto("/map/?outage=2")
    any_page.wait_for_map()
    page = any_page.page
    page.wait_for_function("document.documentElement.dataset.openOutage === '2'")
    popup = page.locator(".leaflet-popup-content")
    assert page.locator(".share-url").input_value() == any_page.base_url + "/map/?outage=2"
    assert popup.locator("a.share-link").get_attribute("href").endswith("/map/?outage=2")
    # A link to an outage that is over says so
    any_page.goto("/map/?outage=999")
    any_page.wait_for_map()
    page.wait_for_function(
        "document.querySelector('#search-status').textContent.includes('可能已经恢复')"
    )
    assert any_page.console_errors == []


def test_planned_outages_are_a_layer_of_their_own(desktop_page, snapshot_dir):
    # Given a snapshot with one active outage and one planned outage next week
    files = dict(snapshot_files(outages=[_outage(1, 22.5431, 114.0579, 40)], generated_at=NOW))
    start = NOW + dt.timedelta(days=5)
    planned = _outage(9, 22.53, 113.93, 120)
    files["planned.geojson"] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 9,
                "geometry": planned["geometry"],
                "properties": {
                    "id": 9, "category": "planned", "type": "planned_maintenance",
                    "type_name": "计划检修", "type_name_en": "Planned maintenance",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + dt.timedelta(hours=4)).isoformat(),
                    "reason": "线路检修", "customers_affected": 120, "district": "440305",
                    "lat": 22.53, "lng": 113.93,
                },
            }
        ],
    }  # fmt: skip
    publish_snapshot(files, directory=snapshot_dir, generated_at=NOW)
    desktop_page.goto("/map/")
    desktop_page.wait_for_map()
    page = desktop_page.page
    # Then it is drawn apart from the current outages, and can be switched off
    page.wait_for_function("document.documentElement.dataset.plannedLayer === 'shown'")
    assert page.locator("path.planned-area").count() == 1
    assert page.locator("#planned-count").inner_text() == "1"
    assert "9" not in [
        li.get_attribute("data-outage-id") for li in page.locator("#outage-list li").all()
    ]
    page.locator("#planned-toggle").uncheck()
    page.wait_for_function("document.documentElement.dataset.plannedLayer === 'hidden'")
    assert page.locator("path.planned-area").count() == 0
    page.locator("#planned-toggle").check()
    page.wait_for_function("document.documentElement.dataset.plannedLayer === 'shown'")
    desktop_page.wait_for_map_idle()
    box = page.locator("path.planned-area").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    popup = page.locator(".planned-popup")
    popup.wait_for()
    assert "线路检修" in popup.inner_text()
    assert "计划检修" in popup.inner_text()
    assert desktop_page.console_errors == []


def test_locate_me_centres_the_map_on_the_visitor(phone_page, snapshot_dir):
    _publish(snapshot_dir, [])
    context = phone_page.page.context
    context.grant_permissions(["geolocation"], origin=phone_page.base_url)
    context.set_geolocation({"latitude": 22.5431, "longitude": 114.0579, "accuracy": 30})
    phone_page.goto("/map/")
    phone_page.wait_for_map()
    page = phone_page.page
    page.locator(".locate-btn").click()
    page.wait_for_function("document.documentElement.dataset.located === '1'")
    assert page.locator("path.locate-marker").count() == 1
    centre = page.evaluate(
        "(() => { const m = window.OutageMap.state.map; const c = m.getCenter();"
        " return [c.lat, c.lng, m.getZoom()]; })()"
    )
    # Tiles are offline, so the map is in WGS-84: the centre is the position itself
    assert centre[0] == pytest.approx(22.5431, abs=1e-3)
    assert centre[1] == pytest.approx(114.0579, abs=1e-3)
    assert centre[2] >= 15
    assert phone_page.console_errors == []
