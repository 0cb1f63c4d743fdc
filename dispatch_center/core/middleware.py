"""``ApiMiddleware``: everything under ``/api/`` answers the contract's JSON errors.

DRF views answer their own errors through ``core.api.exception_handler``; what happens around
them does not go through DRF: a URL that matches no route (``/api/v1/work-orders/abc``), a
body too large for Django, a CSRF failure, a server error. This middleware, for ``/api/``
only:

- refuses a body larger than ``API_MAX_BODY_BYTES`` (multipart uploads:
  ``API_MAX_UPLOAD_BYTES``) with 413 before anything reads it;
- turns Django's ``RequestDataTooBig`` into 413 and other ``SuspiciousOperation`` into 400;
- rewrites any other non-JSON error answer (HTML 404, 400, 403, 500) into
  ``{"error": {"code", "message", "fields"}}`` with the same status;
- adds ``X-Tasks-Deferred: N`` when the request's writes were committed but N task messages
  could not be sent (broker down; ``core.tasks``): the write stands, its sweeper sends them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse

from .tasks import deferred_count, deferred_reset, deferred_restore

API_PREFIX = "/api/"
DEFAULT_MAX_BODY_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE
DEFAULT_MAX_UPLOAD_BYTES = 16 * 1024 * 1024

CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def json_error(status: int, code: str | None = None, message: str | None = None) -> JsonResponse:
    """The contract's error body for ``status`` (no field errors)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    error: dict[str, object] = {
        "code": code or CODES.get(status, "error"),
        "message": message or phrase,
        "fields": {},
    }
    body = {"error": error}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _body_limit(request: HttpRequest) -> int:
    if (request.content_type or "").startswith("multipart/"):
        return int(getattr(settings, "API_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))
    return int(
        getattr(settings, "API_MAX_BODY_BYTES", None)
        or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        or DEFAULT_MAX_BODY_BYTES
    )


def _is_json(response: HttpResponse) -> bool:
    return "json" in (response.get("Content-Type") or "")


class ApiMiddleware:
    """See the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, message="Invalid Content-Length.")
        if length > _body_limit(request):
            return json_error(
                413, message=f"Request body larger than {_body_limit(request)} bytes."
            )
        token = deferred_reset()
        try:
            response = self.get_response(request)
            deferred = deferred_count()
        finally:
            deferred_restore(token)
        if response.status_code >= 400 and not _is_json(response):
            response = json_error(response.status_code)
        if deferred:
            response["X-Tasks-Deferred"] = str(deferred)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return json_error(413, message=str(exception))
        if isinstance(exception, SuspiciousOperation):
            return json_error(400, message=str(exception))
        if isinstance(exception, RecursionError):
            return json_error(400, code="parse_error", message="Input nested too deeply.")
        return None


def is_json_error(body: bytes) -> bool:
    """Whether ``body`` is the contract's error shape (tests and tools)."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"code", "message", "fields"} <= set(error)
