"""Public map pages and the snapshot-serving view (the embedded mode's stand-in for nginx)."""

import gzip
import json

import pytest
from django.urls import reverse

from grids.geodata import DISTRICTS
from outages.publicmap.publishing import publish_snapshot, read_current
from outages.views.public import is_valid_phone


@pytest.fixture
def snapshot_dir(settings, tmp_path):
    settings.SNAPSHOT_DIR = tmp_path
    return tmp_path


@pytest.fixture
def published(snapshot_dir):
    big = {"type": "FeatureCollection", "features": [{"id": i} for i in range(100)]}
    publish_snapshot(
        {"summary.json": {"active_outages": 0}, "outages.geojson": big}, directory=snapshot_dir
    )
    return read_current(snapshot_dir)


def _json(response) -> dict:
    return json.loads(
        b"".join(response.streaming_content) if response.streaming else response.content
    )


def test_current_json_has_short_max_age_and_etag(client, published):
    response = client.get("/snapshot/current.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "public, max-age=5"
    assert response["ETag"].startswith('"')
    assert _json(response)["version"] == published["version"]


def test_current_json_answers_304_to_a_matching_etag(client, published):
    etag = client.get("/snapshot/current.json")["ETag"]
    response = client.get("/snapshot/current.json", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    # A stale ETag gets the full answer.
    assert client.get("/snapshot/current.json", HTTP_IF_NONE_MATCH='"old"').status_code == 200


def test_etag_changes_with_a_new_version(client, snapshot_dir, published):
    before = client.get("/snapshot/current.json")["ETag"]
    publish_snapshot({"summary.json": {"active_outages": 1}}, directory=snapshot_dir)
    assert client.get("/snapshot/current.json", HTTP_IF_NONE_MATCH=before).status_code == 200


def test_versioned_files_are_immutable(client, published):
    url = "/snapshot/" + published["files"]["outages.geojson"]
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert len(_json(response)["features"]) == 100
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_gzip_twin_is_sent_to_clients_that_accept_it(client, published):
    url = "/snapshot/" + published["files"]["outages.geojson"]
    plain = client.get(url).content
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert gzip.decompress(response.content) == plain
    # The two representations have different ETags.
    assert response["ETag"] != client.get(url)["ETag"]


def test_missing_snapshot_is_404(client, snapshot_dir):
    assert client.get("/snapshot/current.json").status_code == 404
    assert client.get("/snapshot/v000001/summary.json").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/snapshot/../settings.py",
        "/snapshot/v000001/../../x.json",
        "/snapshot/.version",
        "/snapshot/.publish.lock",
        "/snapshot/v1/summary.json",
        "/snapshot/v000001/summary.json.gz",
        "/snapshot/v000001/summary.py",
    ],
)
def test_only_snapshot_files_are_served(client, published, path):
    assert client.get(path).status_code == 404


def test_snapshot_view_is_read_only(client, published):
    assert client.post("/snapshot/current.json").status_code == 405
    assert client.head("/snapshot/current.json").status_code == 200


def test_map_page_reads_no_table(client):
    # Storm-proof: the page is rendered from settings and reference geography only. This test
    # has no database access (no ``db`` fixture): any query would raise.
    response = client.get(reverse("public-map"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="map"' in html
    assert "outages/js/map.js" in html
    assert "leaflet/leaflet.js" in html
    assert "jsi18n/" in html


def test_map_page_passes_config_and_district_outlines(client):
    response = client.get(reverse("public-map"))
    config = response.context["config"]
    assert config["snapshotUrl"] == "/snapshot/current.json"
    assert config["api"] == {
        "lookup": "/api/v1/public/lookup",
        "reports": "/api/v1/public/reports",
        "report": "/api/v1/public/reports/",
    }
    assert set(config["labels"]["symptom"]) == {
        "no_power",
        "partial_power",
        "flicker",
        "sparks",
        "wire_down",
    }
    assert len(response.context["districts"]["features"]) == len(DISTRICTS)
    html = response.content.decode()
    assert 'id="map-config"' in html
    assert 'id="districts-data"' in html


def test_map_page_speaks_english_when_asked(client):
    client.cookies["django_language"] = "en"
    response = client.get(reverse("public-map"))
    assert response.context["config"]["language"] == "en"
    assert '<html lang="en">' in response.content.decode()


def test_snapshot_prefix_may_be_a_cdn_url(client, settings):
    settings.SNAPSHOT_URL_PREFIX = "https://cdn.example.com/outage-map"
    config = client.get(reverse("public-map")).context["config"]
    assert config["snapshotUrl"] == "https://cdn.example.com/outage-map/current.json"


def test_report_tracking_page(client):
    # No database access here either: the page's JS reads the public API.
    response = client.get(reverse("public-report-track", args=["R20260701-0001"]))
    assert response.status_code == 200
    assert 'data-reference="R20260701-0001"' in response.content.decode()
    assert "outages/js/track.js" in response.content.decode()


def test_tracking_reference_is_escaped(client):
    response = client.get("/map/report/%3Cscript%3E")
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split('id="track"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("13812345678", True),
        ("199 1234 5678", True),
        ("0755-83838383", True),
        ("075583838383", True),
        ("010-12345678-123", True),
        ("12812345678", False),
        ("1381234567", False),
        ("138123456789", False),
        ("83838383", False),
        ("abc", False),
        ("", False),
    ],
)
def test_phone_rule(phone, valid):
    assert is_valid_phone(phone) is valid
