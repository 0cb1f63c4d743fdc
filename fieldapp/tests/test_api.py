"""The crews' app endpoints: duty, device history, spare parts (stock never below zero,
idempotent replays), the customer's sign-off, the shell and its service worker."""

from __future__ import annotations

import io
import struct
import threading
import zlib

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dispatch_center.core.exceptions import DomainError
from fieldapp import services
from fieldapp.models import CustomerSignoff, PartMove, SparePart, StationStock
from workorders.models import WorkOrder
from workorders.tests.factories import (
    crew_user,
    force_status,
    make_crew,
    make_order,
    reference_data,
)

S = WorkOrder.Status
pytestmark = pytest.mark.django_db


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A tiny valid PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def setup():
    reference_data()
    crew = make_crew()
    user = crew_user(crew)
    client = APIClient()
    client.force_authenticate(user)
    order = force_status(make_order(), S.ON_SITE, crew=crew)
    part = SparePart.objects.create(code="FUSE-10A", name="熔断器 10A", unit="只")
    StationStock.objects.create(station=crew.station, part=part, quantity=3)
    return {"crew": crew, "user": user, "client": client, "order": order, "part": part}


def _stock(setup) -> int:
    return StationStock.objects.get(station=setup["crew"].station, part=setup["part"]).quantity


def _move(setup, action, quantity, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return setup["client"].post(
        f"/api/v1/crew/orders/{setup['order'].pk}/parts",
        {"action": action, "part": "FUSE-10A", "quantity": quantity},
        format="json",
        **headers,
    )


def test_me_and_duty(setup):
    client = setup["client"]
    me = client.get("/api/v1/crew/me").json()
    assert me["crew_id"] == setup["crew"].pk
    assert me["on_duty"] is True
    assert any(c["code"] for c in me["causes"])
    off = client.post("/api/v1/crew/duty", {"on_duty": False}, format="json")
    assert off.status_code == 200
    assert off.json()["on_duty"] is False
    setup["crew"].refresh_from_db()
    assert setup["crew"].on_duty is False


def test_outsider_and_other_crew_are_refused(setup, outsider):
    outsider_client = APIClient()
    outsider_client.force_authenticate(outsider)
    assert outsider_client.get("/api/v1/crew/me").status_code == 403
    other = APIClient()
    other.force_authenticate(crew_user(make_crew()))
    response = other.get(f"/api/v1/crew/orders/{setup['order'].pk}/history")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_your_order"


def test_parts_request_use_and_never_below_zero(setup):
    # Given 3 fuses at the crew's station
    assert _move(setup, "request", 2).status_code == 201
    assert _stock(setup) == 1
    # When more are asked for than the station holds, then a 400 naming the quantity
    short = _move(setup, "request", 2)
    assert short.status_code == 400
    assert short.json()["error"]["code"] == "insufficient_stock"
    assert _stock(setup) == 1
    # And only what was taken for the order can be used, the rest returned
    used = _move(setup, "use", 1)
    assert used.status_code == 201
    assert used.json()["held"] == 1
    assert _move(setup, "use", 2).json()["error"]["code"] == "insufficient_parts"
    assert _move(setup, "return", 1).status_code == 201
    assert _stock(setup) == 2
    listed = setup["client"].get(f"/api/v1/crew/orders/{setup['order'].pk}/parts").json()
    assert [m["kind"] for m in listed] == ["request", "use", "return"]
    parts = setup["client"].get("/api/v1/crew/parts").json()
    assert parts["results"][0]["my_station"] == 2


def test_part_move_replay_is_applied_once(setup):
    first = _move(setup, "request", 1, key="k-1")
    again = _move(setup, "request", 1, key="k-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert _stock(setup) == 2
    assert PartMove.objects.count() == 1
    reused = _move(setup, "request", 2, key="k-1")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_never_take_stock_below_zero():
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks of a real server")
    # Given 5 parts in stock and 12 crew members of the station asking for one each at once
    reference_data()
    crew = make_crew()
    order = force_status(make_order(), S.ON_SITE, crew=crew)
    part = SparePart.objects.create(code="CABLE", name="电缆接头")
    StationStock.objects.create(station=crew.station, part=part, quantity=5)
    barrier = threading.Barrier(12)
    results: list[str] = []
    lock = threading.Lock()

    def take(n: int) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            services.part_move_record(
                order=order,
                crew=crew,
                actor=None,
                kind="request",
                part=part,
                quantity=1,
                key=f"t-{n}",
            )
            outcome = "ok"
        except DomainError as exc:
            outcome = exc.code
        finally:
            thread_connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Then exactly five get one and the stock is at zero, not below
    assert sorted(results) == ["insufficient_stock"] * 7 + ["ok"] * 5
    assert StationStock.objects.get(part=part).quantity == 0
    assert PartMove.objects.filter(part=part).count() == 5


def test_signoff_signature_once_per_order(setup):
    url = f"/api/v1/crew/orders/{setup['order'].pk}/signoff"
    upload = io.BytesIO(png_bytes())
    upload.name = "signature.png"
    response = setup["client"].post(url, {"image": upload, "signer_name": "王女士"})
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "signature"
    upload = io.BytesIO(png_bytes())
    upload.name = "signature.png"
    again = setup["client"].post(url, {"image": upload, "signer_name": "王女士"})
    assert again.status_code == 200
    assert CustomerSignoff.objects.filter(order=setup["order"]).count() == 1


def test_signoff_before_arrival_is_a_conflict(setup):
    order = force_status(make_order(), S.ACCEPTED, crew=setup["crew"])
    upload = io.BytesIO(png_bytes())
    upload.name = "s.png"
    response = setup["client"].post(
        f"/api/v1/crew/orders/{order.pk}/signoff", {"image": upload, "signer_name": "李"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_on_site"
    bad = io.BytesIO(b"not an image")
    bad.name = "x.png"
    refused = setup["client"].post(
        f"/api/v1/crew/orders/{setup['order'].pk}/signoff", {"image": bad, "signer_name": "李"}
    )
    assert refused.status_code == 400


def test_history_lists_earlier_and_open_orders_on_the_transformer(setup):
    from grids.tests.factories import ServicePointFactory

    # Given a premise whose transformer had an earlier, completed order and has another open
    point = ServicePointFactory()
    neighbour = ServicePointFactory(transformer=point.transformer)
    earlier = force_status(
        make_order(service_point=neighbour, title="上月跳闸"),
        S.COMPLETED,
        crew=setup["crew"],
        findings="低压熔丝熔断",
    )
    still_open = make_order(service_point=neighbour, title="电压低")
    unrelated = make_order(service_point=ServicePointFactory(), title="别处")
    order = force_status(make_order(service_point=point), S.ON_SITE, crew=setup["crew"])
    # When the crew asks for the device history of its order
    body = setup["client"].get(f"/api/v1/crew/orders/{order.pk}/history").json()
    # Then the transformer, the earlier order with its findings and the open one are listed
    assert body["transformer"]["code"] == point.transformer.code
    assert [o["id"] for o in body["previous"]] == [earlier.pk]
    assert body["previous"][0]["findings"] == "低压熔丝熔断"
    assert [o["id"] for o in body["open_orders"]] == [still_open.pk]
    assert unrelated.pk not in [o["id"] for o in body["previous"] + body["open_orders"]]


def test_shell_service_worker_and_manifest(setup, client, outsider):
    assert client.get("/crew/").status_code == 302
    client.force_login(outsider)
    assert client.get("/crew/").status_code == 403
    client.force_login(setup["user"])
    page = client.get("/crew/")
    assert page.status_code == 200
    assert b"app.js" in page.content
    worker = client.get("/crew/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert b"/static/fieldapp/app.js" in worker.content
    manifest = client.get("/crew/manifest.webmanifest").json()
    assert manifest["scope"] == "/crew/"


def test_demo_parts_seed_is_idempotent(setup):
    from django.core.management import call_command

    call_command("seed_demo_parts")
    call_command("seed_demo_parts")
    assert SparePart.objects.filter(code="FUSE-LV-100A").count() == 1
    stock = StationStock.objects.get(station=setup["crew"].station, part__code="CLAMP-JPX")
    assert stock.quantity >= 40
