"""The public look-up read in few statements answers exactly what the model-by-model reads did.

The reference below is the look-up as it was built first: ``service_point_search``, then per
match ``outage_for_service_point`` / ``public_outage`` and the published
``planned_outages_for_service_point``, then the places. Both run on a demo city with nested,
restored and planned outages, over hundreds of queries of every kind, in both languages.
"""

import random
from datetime import timedelta

import pytest
from django.core.exceptions import EmptyResultSet
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from dispatch_center.core.i18n import local_name
from grids import selectors as grids_selectors
from grids.address import normalize_identifier
from grids.models import Device, ServicePoint
from grids.selectors import lookup as grids_lookup
from grids.selectors import search as grids_search
from outages import services
from outages.api import public as public_api
from outages.models import Outage
from outages.selectors import lookup as outages_lookup
from outages.selectors import outage_for_service_point, planned_outages_for_service_point
from outages.tests.factories import outage_cause, outage_type

pytestmark = pytest.mark.django_db


def _reference_matches(q, limit):
    ident = normalize_identifier(q)
    try:
        hits = grids_selectors.service_point_search(q=q, limit=limit)
    except EmptyResultSet:
        hits = []
    if ident:
        hits = [
            h
            for h in hits
            if h.service_point.account_no == ident or ident in h.service_point.address_norm
        ]
    out = []
    for hit in hits:
        sp = hit.service_point
        outage = outage_for_service_point(service_point=sp)
        planned = planned_outages_for_service_point(service_point=sp, days=7, published_only=True)
        out.append(
            {
                "address": sp.address,
                "district": local_name(sp.district) if sp.district is not None else None,
                "lat": round(sp.lat, 4),
                "lng": round(sp.lng, 4),
                "outage": public_api.public_outage(outage) if outage is not None else None,
                "planned": [
                    {
                        "id": p.pk,
                        "starts_at": public_api.iso(p.planned_start_at),
                        "ends_at": public_api.iso(p.planned_end_at),
                        "reason": p.description or local_name(p.type),
                    }
                    for p in planned
                ],
            }
        )
    return out


def _reference_answer(q, limit):
    matches = _reference_matches(q, limit)
    places = public_api.lookup_places(q, limit, exact=bool(matches))
    return {"matches": matches, **({"places": places} if places else {})}


@pytest.fixture(autouse=True)
def _no_time_boxes(monkeypatch):
    # grids' search gives up on a slow tier after a few milliseconds: on a loaded machine one
    # of the two searches compared could give up and the other not.
    monkeypatch.setattr(grids_search, "WALK_BUDGET_MS", 60_000)
    monkeypatch.setattr(grids_search, "SIMILARITY_BUDGET_MS", 60_000)


@pytest.fixture
def city():
    call_command(
        "seed_demo",
        service_points=1500,
        feeders_per_grid=1,
        crews_per_station=1,
        no_progress=True,
        verbosity=0,
    )
    transformers = list(Device.objects.filter(kind="transformer").order_by("pk"))
    breaker = Device.objects.filter(kind="breaker").order_by("pk").first()
    fault = outage_type("fault_mv_feeder")
    # A feeder outage with a transformer outage nested under it, a cause and an ETR.
    feeder = services.outage_create(
        type=fault,
        device=breaker,
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
        etr=timezone.now() + timedelta(hours=2),
    )
    services.outage_set_cause(outage=feeder, cause=outage_cause("tree"), actor=None)
    below = [
        t for t in transformers if t.feeder_id == breaker.feeder_id and t.service_points.exists()
    ]
    services.outage_create(
        type=outage_type("fault_transformer"),
        device=below[0],
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.PREDICTED,
        actor=None,
    )
    others = [t for t in transformers if t.feeder_id != breaker.feeder_id]
    # Lone transformer outages elsewhere, one of them restored (no longer shown).
    for device in others[:4]:
        services.outage_create(
            type=fault,
            device=device,
            source=Outage.Source.DISPATCHER,
            status=Outage.Status.CONFIRMED,
            actor=None,
        )
    restored = services.outage_create(
        type=fault,
        device=others[5],
        source=Outage.Source.DISPATCHER,
        status=Outage.Status.CONFIRMED,
        actor=None,
    )
    services.outage_restore(outage=restored, actor=None)
    # Published planned outages, with a description or without, two on the same points.
    start = timezone.now() + timedelta(days=2)
    for device, description in ((others[6], "线路检修"), (others[6], ""), (others[7], "")):
        planned = services.planned_outage_create(
            type=outage_type("planned_maintenance"),
            devices=[device],
            planned_start_at=start,
            planned_end_at=start + timedelta(hours=4),
            description="线路检修",
            actor=None,
            override_reason="test",
        )
        services.planned_outage_publish_notice(outage=planned, actor=None)
        # No description: the answer's reason is the type's name.
        Outage.objects.filter(pk=planned.pk).update(description=description)
    # One not published: never in a public answer.
    services.planned_outage_create(
        type=outage_type("planned_maintenance"),
        devices=[others[8]],
        planned_start_at=start,
        planned_end_at=start + timedelta(hours=4),
        description="未公告",
        actor=None,
        override_reason="test",
    )
    return list(ServicePoint.objects.order_by("pk"))


def _queries(points, rng):
    affected = set(
        ServicePoint.objects.filter(interruptions__isnull=False).values_list("pk", flat=True)
    )
    nested = set(
        ServicePoint.objects.filter(
            interruptions__outage__type__code="fault_transformer"
        ).values_list("pk", flat=True)
    )
    chosen = [p for p in points if p.pk in nested][:5]
    chosen += [p for p in points if p.pk in affected] + rng.sample(points, 80)
    out = [
        "深",
        "路",
        "福田",
        "福田区",
        "园岭街道",
        "不存在的地址",
        "深南中路1003号",
        "100%",
        "a_b",
    ]
    for sp in chosen:
        text = sp.address.removeprefix("深圳市")
        cut = rng.randrange(2, max(3, len(text)))
        out += [text, text[:cut], text[cut // 2 : cut], sp.address]
        out.append(text[:-1] + "X")  # a typo: the similarity tier
        out.append(sp.account_no)
        out.append(sp.phone)
        out.append(sp.account_no[:8])
    return list(dict.fromkeys(q for q in out if len(q.strip()) >= 2))


def _assert_same(queries, limits=(20,)):
    compared = 0
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for q in queries:
                for limit in limits:
                    matches, place_named = public_api._lookup_matches(q, limit)
                    assert matches == _reference_matches(q, limit), (language, q, limit)
                    if matches and not place_named:
                        assert public_api.lookup_places(q, limit, exact=True) == [], q
                    compared += 1
    return compared


def test_rows_answer_exactly_what_the_model_reads_answered(city):
    queries = _queries(city, random.Random(15))
    assert len(queries) > 600
    # Some answers carry outages, nested ones, planned outages and places: the comparison
    # covers every part of the answer.
    with translation.override("zh-hans"):
        answers = [_reference_answer(q, 20) for q in queries]
    matches = [m for a in answers for m in a["matches"]]
    assert sum(1 for m in matches if m["outage"]) > 20
    assert len({m["outage"]["id"] for m in matches if m["outage"]}) >= 3
    assert sum(1 for m in matches if m["planned"]) > 3
    assert sum(1 for m in matches if len(m["planned"]) == 2) > 0
    assert sum(1 for a in answers if "places" in a) > 0
    assert _assert_same(queries) == len(queries) * 2


def test_common_fragments_fall_back_to_the_tiered_search(city, monkeypatch):
    # With a probe cap of 3, most fragments are "common": the tiered search answers them.
    for module in (grids_search, grids_lookup, outages_lookup):
        monkeypatch.setattr(module, "PROBE_CAP", 3)
    queries = _queries(city, random.Random(16))[:200]
    assert _assert_same(queries, limits=(5,)) == len(queries) * 2


def test_an_address_look_up_takes_one_statement_without_outages(city):
    sp = next(p for p in city if not p.interruptions.exists())
    fragment = sp.address.removeprefix("深圳市")[:-1]
    with CaptureQueriesContext(connection) as queries:
        matches, _ = public_api._lookup_matches(fragment, 20)
    assert matches
    assert all(m["outage"] is None for m in matches)
    searches = [q["sql"] for q in queries if "probe" in q["sql"]]
    assert len(searches) == 1
    # The savepoint and the planner settings around it in a test's transaction aside.
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 2


def test_matches_with_outages_take_a_bounded_number_of_statements(city):
    sp = next(p for p in city if outage_for_service_point(service_point=p) is not None)
    fragment = sp.address.removeprefix("深圳市")[:-3]
    with CaptureQueriesContext(connection) as queries:
        matches, _ = public_api._lookup_matches(fragment, 20)
    assert any(m["outage"] for m in matches)
    assert len(queries) <= 8


def test_the_lean_get_answers_what_drf_answers(city, api_client, monkeypatch):
    sp = next(p for p in city if outage_for_service_point(service_point=p) is not None)
    texts = [sp.address.removeprefix("深圳市")[:-3], sp.account_no, "园岭街道", "不存在的地址"]
    lean_calls = []
    real = public_api._lookup_fresh

    def spy(q, norm, limit):
        lean_calls.append(q)
        return real(q, norm, limit)

    for q in texts:
        for params in ({"q": q}, {"q": f"  {q} ", "limit": "20"}):
            public_api.bump_public_version()
            lean = api_client.get("/api/v1/public/lookup", params)
            public_api.bump_public_version()
            # A parameter the lean path does not know sends the request through DRF.
            drf = api_client.get("/api/v1/public/lookup", {**params, "format": "json"})
            assert lean.status_code == drf.status_code == 200
            assert lean.content == drf.content
            assert lean["Content-Type"] == drf["Content-Type"]
            assert lean["Allow"] == drf["Allow"]
    # Invalid queries are DRF's to answer (the contract's error shape).
    monkeypatch.setattr(public_api, "_lookup_fresh", spy)
    for bad in (
        {"q": "x"},
        {"q": "  "},
        {"q": "福田区", "limit": "0"},
        {"q": "福田", "limit": "x"},
    ):
        response = api_client.get("/api/v1/public/lookup", bad)
        assert response.status_code == 400
        assert set(response.json()) == {"error"}
    assert lean_calls == []
    assert api_client.get("/api/v1/public/lookup", {"q": "福田区"}).status_code == 200
    assert lean_calls == ["福田区"]
