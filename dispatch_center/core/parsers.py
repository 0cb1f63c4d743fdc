"""The JSON parser of every API endpoint: bounded nesting, contract errors.

Python's ``json`` recurses once per nesting level, so a 2 KB body of ``[[[[…]]]]`` raises
``RecursionError`` (a 500). Nothing in the API is nested more than a few levels, so a body
nested deeper than ``API_JSON_MAX_DEPTH`` is refused with 400 before it is parsed: a linear
scan of the raw text (strings skipped), far cheaper than the parse itself.
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
            return json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": exc}) from exc


def _reject_constant(name: str) -> Any:
    # NaN / Infinity are not JSON (DRF's strict mode refuses them too).
    raise ValueError(f"{name} is not valid JSON")
