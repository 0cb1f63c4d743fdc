"""Domain errors. ``core.api.exception_handler`` maps them to HTTP answers."""

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the operation (HTTP 400)."""

    code = "domain_error"
    status_code = 400

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError):
    """The object does not exist."""

    code = "not_found"
    status_code = 404


class PermissionDenied(DomainError):
    """The actor may not do this."""

    code = "forbidden"
    status_code = 403


class TransitionNotAllowed(DomainError):
    """The requested status change is not allowed from the current status."""

    code = "transition_not_allowed"
    status_code = 409

    def __init__(self, current: Any, target: Any) -> None:
        super().__init__(f"Transition from '{current}' to '{target}' is not allowed.")
        self.current = current
        self.target = target


class ConcurrentUpdate(DomainError):
    """Somebody else changed the object first; reload and try again."""

    code = "concurrent_update"
    status_code = 409

    def __init__(self, pk: Any) -> None:
        super().__init__(f"Object {pk} was changed concurrently; reload and retry.")
        self.pk = pk


class Conflict(DomainError):
    """The request conflicts with the current state (for example: already taken)."""

    code = "conflict"
    status_code = 409


class ExternalServiceError(Exception):
    """A remote service failed in a way worth retrying (SMS gateway, SCADA...)."""
