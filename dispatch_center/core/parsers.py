"""The JSON parser of every API endpoint: bounded nesting, contract errors.

Python's ``json`` recurses once per nesting level, so a 2 KB body of ``[[[[…]]]]`` raises
``RecursionError`` (a 500). Nothing in the API is nested more than a few levels, so a body
nested deeper than ``API_JSON_MAX_DEPTH`` is refused with 400 before it is parsed: a linear
scan of the raw text (strings skipped), far cheaper than the parse itself.

JSON's ``\\uXXXX`` escapes can spell a lone UTF-16 surrogate (``"\\ud800"``), which is no
character at all: an answer that echoes it cannot be encoded as UTF-8 (a 500 when rendered).
Such a body is refused with 400 too; only bodies that spell a surrogate escape are checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

DEFAULT_MAX_DEPTH = 32
# Brackets outside strings: a string token is skipped whole (escapes included).
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether ``text`` opens more than ``limit`` arrays/objects inside each other."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the common case: too few brackets to be that deep
    depth = 0
    for match in _TOKENS.finditer(text):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif piece in ("]", "}"):
            depth -= 1
    return False


def max_depth() -> int:
    return int(getattr(settings, "API_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


class SafeJSONParser(JSONParser):
    """DRF's JSON parser with a nesting limit; every failure is a 400 ``parse_error``."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(_("请求内容不是有效的 UTF-8 文本。")) from exc
        if json_depth_exceeds(text, max_depth()):
            raise ParseError(_("JSON 嵌套层数超过 %(limit)s。") % {"limit": max_depth()})
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": exc}) from exc
        if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(data):
            raise ParseError(_("请求内容不是有效的 UTF-8 文本。"))
        return data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _has_lone_surrogate(data: Any) -> bool:
    """Whether any string (key or value) in parsed JSON holds a surrogate not in a pair."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(data, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in data.items())
    if isinstance(data, list):
        return any(_has_lone_surrogate(item) for item in data)
    return False


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON (DRF's strict mode refuses them too).
    raise ValueError(f"{name} is not valid JSON")
