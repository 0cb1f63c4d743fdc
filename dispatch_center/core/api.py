"""DRF glue: one error shape for every API answer, pagination."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import DomainError

# One answer for a reused Idempotency-Key everywhere (documented in the OpenAPI schema).
IDEMPOTENCY_REUSED_CODE = "idempotency_key_reused"
IDEMPOTENCY_REUSED_STATUS = status.HTTP_422_UNPROCESSABLE_ENTITY


class DefaultPagination(PageNumberPagination):
    """Page-number pagination; a ``page_size`` that is not an integer in 1..``max_page_size``
    is a 400 naming the field, on every list (never silently clamped)."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Any) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        field = serializers.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return int(field.run_validation(raw))
        except exceptions.ValidationError as exc:
            raise exceptions.ValidationError({self.page_size_query_param: exc.detail}) from exc


def error_response(
    code: str, message: str, http_status: int, fields: dict[str, list[str]] | None = None
) -> Response:
    """The contract's error body: ``{"error": {"code", "message", "fields"}}``."""
    return Response(
        {"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status
    )


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub, sub_msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = sub_msgs
            elif isinstance(value, list):
                msgs = []
                for item in value:
                    if isinstance(item, dict):
                        for sub, sub_msgs in _flatten(item).items():
                            out[f"{key}.{sub}"] = sub_msgs
                    else:
                        msgs.append(str(item))
                if msgs:
                    out[str(key)] = msgs
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(d) for d in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain, Django and DRF errors onto the contract's error body.

    - A reused ``Idempotency-Key`` with another body is 422 ``idempotency_key_reused``
      wherever it is detected (public reports, staff reports, crew actions).
    - A bad token (or an inactive user's) is 401 with ``WWW-Authenticate: Token``; DRF would
      answer 403 because session authentication comes first. A request with no credentials
      at all stays 403 ``not_authenticated``.
    - JSON nested beyond what Python's parser can recurse into is a 400 ``parse_error``.
    """
    if isinstance(exc, DomainError):
        http_status = (
            IDEMPOTENCY_REUSED_STATUS if exc.code == IDEMPOTENCY_REUSED_CODE else exc.status_code
        )
        return error_response(exc.code, exc.message, http_status, exc.fields)
    if isinstance(exc, RecursionError):
        return error_response(
            "parse_error", "Input nested too deeply.", status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, exceptions.AuthenticationFailed):
        exc.status_code = status.HTTP_401_UNAUTHORIZED
        exc.auth_header = "Token"  # type: ignore[attr-defined]
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        return error_response("invalid", "Invalid input.", status.HTTP_400_BAD_REQUEST, fields)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "invalid", "Invalid input.", response.status_code, _flatten(exc.detail)
        )
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_response(str(code), str(exc.detail), response.status_code)
        for header, value in response.items():
            body[header] = value
        return body
    return response
