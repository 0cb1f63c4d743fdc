"""DRF glue: one error shape for every API answer, pagination."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import DomainError


class DefaultPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


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
    """Map domain, Django and DRF errors onto the contract's error body."""
    if isinstance(exc, DomainError):
        return error_response(exc.code, exc.message, exc.status_code, exc.fields)
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
