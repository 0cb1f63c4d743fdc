"""The public report's fast paths give what DRF gives: the validation of plainly valid bodies
(``plainly_valid_report``) and the content negotiation (``JsonFirstNegotiation``), over many
generated bodies and headers."""

import json
import math

import pytest
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from outages.api.public import (
    JsonFirstNegotiation,
    PublicReportCreateApi,
    ReportInputSerializer,
    plainly_valid_report,
)
from outages.models import TroubleReport

SYMPTOMS = list(TroubleReport.Symptom.values)
CHANNELS = ["web", "hotline", "app", "wechat", "scada", ""]
ODD_TEXT = [
    "",
    " ",
    "  \t",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "福田区\n",
    "\u3000福华路\u3000",
]

texts = st.one_of(
    st.text(max_size=40),
    st.text(min_size=190, max_size=210),
    st.sampled_from(ODD_TEXT),
    st.sampled_from(["0755000001", " 0755000001 ", "深圳市福田区华强北路1号", "福华路 3 号"]),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.integers(min_value=-300, max_value=300),
    st.sampled_from([22.54, 114.05, 90, -90, 180, -180, 90.000001, 10**400]),
)
phones = st.one_of(
    st.sampled_from(
        ["13800138000", "138 0013 8000", " 13800138000 ", "0755-83212345", "075583212345"]
    ),
    st.sampled_from(["", " ", "12", "1380013800012345678901", "138001380\x00"]),
    st.text(alphabet="0123456789 -+", max_size=24),
)
values = st.one_of(
    st.none(), st.booleans(), texts, numbers, st.lists(st.integers(), max_size=2), st.just({})
)


@st.composite
def bodies(draw):
    body = {}
    for name, strategy in (
        ("account_no", st.one_of(texts, values)),
        ("address", st.one_of(texts, values)),
        ("lat", st.one_of(numbers, values)),
        ("lng", st.one_of(numbers, values)),
        ("description", st.one_of(texts, values)),
        ("symptom", st.one_of(st.sampled_from(SYMPTOMS), values)),
        ("phone", st.one_of(phones, values)),
        ("channel", st.one_of(st.sampled_from(CHANNELS), values)),
        ("extra", values),
    ):
        if draw(st.booleans()):
            body[name] = draw(strategy)
    if draw(st.integers(0, 3)) == 0:  # mostly one way of locating, as callers send
        for name in ("account_no", "address", "lat", "lng"):
            body.pop(name, None)
        choice = draw(st.sampled_from(["account_no", "address", "coords"]))
        if choice == "coords":
            body["lat"], body["lng"] = draw(numbers), draw(numbers)
        else:
            body[choice] = draw(texts)
    return body


@st.composite
def near_valid_bodies(draw):
    """What callers send, with at most one field changed into anything."""
    body = {
        "symptom": draw(st.sampled_from(SYMPTOMS)),
        "phone": draw(st.sampled_from(["13800138000", " 138 0013 8000 ", "0755-83212345"])),
    }
    locate = draw(st.sampled_from(["account_no", "address", "coords"]))
    if locate == "coords":
        edges = st.sampled_from([90, -90, 90.5, -90.5, 180, -180, 180.5, -180.5, 90.000001])
        body["lat"] = draw(st.floats(min_value=-90, max_value=90) | st.integers(-90, 90) | edges)
        body["lng"] = draw(
            st.floats(min_value=-180, max_value=180) | st.integers(-180, 180) | edges
        )
    else:
        body[locate] = draw(texts)
    for name, strategy in (
        ("channel", st.sampled_from(CHANNELS)),
        ("description", texts),
        ("account_no", st.sampled_from(["", " ", None])),
        ("address", st.sampled_from(["", None])),
    ):
        if name not in body and draw(st.booleans()):
            body[name] = draw(strategy)
    if draw(st.booleans()):
        name = draw(st.sampled_from([*body, "lat", "lng", "extra"]))
        body[name] = draw(values)
    return body


any_body = st.one_of(
    near_valid_bodies(), bodies(), st.lists(st.integers(), max_size=2), st.text(max_size=5)
)


def _same(a, b):
    """Equal with the same types (``1`` is not ``1.0``), NaN equal to itself."""
    if type(a) is not type(b) and not (isinstance(a, str) and isinstance(b, str)):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


@settings(max_examples=1500, deadline=None)
@given(any_body)
def test_the_fast_validation_gives_the_serializers_data_or_defers_to_it(body):
    serializer = ReportInputSerializer(data=body)
    valid = serializer.is_valid()
    fast = plainly_valid_report(body)
    if fast is None:
        return  # the serializer decides, as before
    # A body the fast path takes is one the serializer accepts, with the same data
    assert valid, (body, serializer.errors)
    expected = dict(serializer.validated_data)
    assert set(fast) == set(expected), body
    for key, value in expected.items():
        assert _same(fast[key], value), (key, fast[key], value)


@pytest.mark.parametrize(
    "body",
    [
        {"symptom": "no_power", "phone": "13800138000", "account_no": "075500000001"},
        {"symptom": "no_power", "phone": " 138 0013 8000 ", "address": " 深圳市福田区福华路3号 "},
        {"symptom": "sparks", "phone": "0755-83212345", "lat": 22.54, "lng": 114},
        {
            "symptom": "flicker",
            "phone": "13800138000",
            "channel": "web",
            "address": "福华路3号",
            "description": None,
            "account_no": "",
            "lat": None,
            "lng": None,
        },
    ],
)
def test_what_callers_send_takes_the_fast_path(body):
    fast = plainly_valid_report(body)
    serializer = ReportInputSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
    assert fast is not None
    assert fast == dict(serializer.validated_data)


class _SerializerFirstReportApi(PublicReportCreateApi):
    """The view as it was: the serializer validates every body."""

    throttle_classes = []

    def post(self, request):
        ReportInputSerializer(data=request.data).is_valid(raise_exception=True)
        return super().post(request)


class _ReportApi(PublicReportCreateApi):
    throttle_classes = []


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(near_valid_bodies(), bodies()))
def test_invalid_bodies_get_the_serializers_error_answers(body):
    if ReportInputSerializer(data=body).is_valid():
        return  # valid bodies are filed (the database's tests)
    factory = APIRequestFactory()
    raw = json.dumps(body, allow_nan=True)
    answers = []
    for view in (_ReportApi.as_view(), _SerializerFirstReportApi.as_view()):
        response = view(factory.post("/r", raw, content_type="application/json"))
        try:
            response.render()
        except UnicodeEncodeError:  # a lone surrogate echoed in a message: both alike
            answers.append((response.status_code, response.data))
        else:
            answers.append((response.status_code, json.loads(response.content)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400


ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html",
    "text/html, */*;q=0.1",
    "application/xml",
    "",
    "application/json;q=0",
    "*/*; charset=utf-8",
    "garbage",
]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "format=json", "format=api", "x=1"])
def test_the_accept_fast_path_answers_as_drf_does(accept, query):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    wsgi = APIRequestFactory().post(f"/r?{query}" if query else "/r", {}, **headers)
    answers = []
    for negotiation in (JsonFirstNegotiation(), DefaultContentNegotiation()):
        try:
            renderer, media_type = negotiation.select_renderer(Request(wsgi), [JSONRenderer()])
            answers.append((type(renderer), media_type))
        except (NotAcceptable, Http404) as refused:
            answers.append(type(refused).__name__)
    assert answers[0] == answers[1]
