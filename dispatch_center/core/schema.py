"""OpenAPI post-processing: the error answers the server gives, described once, centrally.

drf-spectacular describes what each view declares; the answers that come from the shared
machinery (authentication, permissions, parsing, throttling, the ``/api/`` middleware) are
added here to every operation that can give them, all with the contract's error body:

- 400 to every operation with a body or query parameters (validation, malformed JSON);
- 401 (a bad token) and 403 (no credentials, not the role, a CSRF failure) to every
  operation that takes credentials; 429 to the public ones (rate-limited);
- ``page`` and ``page_size`` (and 404 past the last page) to every paginated list;
- 404 to every operation with a path parameter (unknown or malformed id);
- 413 and 415 to every operation with a request body;
- 422 to every operation that takes an ``Idempotency-Key``: the key was used before with
  another body (the same answer everywhere).
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA_NAME = "ContractError"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The contract's error body (API.md).",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}
DESCRIPTIONS = {
    "400": "Invalid input (field errors in `error.fields`), or a malformed body.",
    "401": "The token is not valid.",
    "403": "Not logged in, or without the role this operation needs.",
    "404": "No such object.",
    "413": "The body is too large.",
    "415": "The body's media type is not accepted.",
    "422": "The `Idempotency-Key` was used before with another body "
    "(code `idempotency_key_reused`).",
    "429": "Rate limit reached; `Retry-After` says when to try again.",
}
METHODS_WITH_BODY = {"post", "put", "patch"}
PUBLIC_PREFIX = "/api/v1/public/"


def _is_public(path: str, operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    return path.startswith(PUBLIC_PREFIX) or any(not req for req in security)


def _takes_credentials(operation: dict[str, Any]) -> bool:
    return any(req for req in operation.get("security") or [])


def _resolve(result: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return dict(result["components"]["schemas"].get(ref.rsplit("/", 1)[1], {}))
    return schema


def _is_page(result: dict[str, Any], operation: dict[str, Any]) -> bool:
    """Whether the 200 answer is a ``DefaultPagination`` page (count/next/previous/results)."""
    content = (operation["responses"].get("200") or {}).get("content") or {}
    schema = (content.get("application/json") or {}).get("schema") or {}
    properties = _resolve(result, schema).get("properties") or {}
    return {"count", "next", "previous", "results"} <= set(properties)


def _add_page_parameters(operation: dict[str, Any]) -> None:
    from .api import DefaultPagination

    params = operation.setdefault("parameters", [])
    names = {p.get("name") for p in params}
    if "page" not in names:
        params.append(
            {
                "in": "query",
                "name": "page",
                "schema": {"type": "integer", "minimum": 1},
                "description": "Page number (404 past the last page).",
            }
        )
    if "page_size" not in names:
        params.append(
            {
                "in": "query",
                "name": "page_size",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": DefaultPagination.max_page_size,
                },
                "description": "Results per page (400 outside the range).",
            }
        )


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    for path, item in (result.get("paths") or {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes: set[str] = set()
            if method == "get" and _is_page(result, operation):
                _add_page_parameters(operation)
                codes.add("404")
            params = operation.get("parameters") or []
            has_body = method in METHODS_WITH_BODY
            if has_body or any(p.get("in") == "query" for p in params) or "{" in path:
                codes.add("400")
            if has_body:
                codes |= {"413", "415"}
            if "{" in path:
                codes.add("404")
            if _is_public(path, operation):
                codes.add("429")
            if _takes_credentials(operation):
                codes |= {"401", "403"}
            if any(p.get("name") == "Idempotency-Key" for p in params):
                codes.add("422")
            responses = operation["responses"]
            for code in sorted(codes):
                if code not in responses:
                    responses[code] = {
                        "description": DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
    return result
