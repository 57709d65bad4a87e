"""The service's one error hierarchy.

Services raise `AppError` subclasses; nothing below the HTTP layer knows about HTTP beyond the
status code (and headers) each error carries. `app.api.errors` renders them.
"""

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

_BEARER_CHALLENGE = MappingProxyType({"WWW-Authenticate": "Bearer"})


class AppError(Exception):
    status_code: ClassVar[int] = 500
    detail: ClassVar[str] = "Internal server error"
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init__(self, detail: str | None = None) -> None:
        self.message = detail or self.detail
        self.response_headers: dict[str, str] = dict(self.headers)
        super().__init__(self.message)


class InvalidInput(AppError):
    """Input that passed the schema but breaks a domain rule; rendered like a validation error."""

    status_code = 400
    detail = "Invalid input"

    def __init__(self, location: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.location = tuple(location)


class NotAuthenticated(AppError):
    status_code = 401
    detail = "Could not validate credentials"
    headers = _BEARER_CHALLENGE


class InvalidCredentials(AppError):
    status_code = 401
    detail = "Invalid email or password"
    headers = _BEARER_CHALLENGE


class Forbidden(AppError):
    status_code = 403
    detail = "You are not allowed to perform this action"


class NotFound(AppError):
    status_code = 404
    detail = "Not found"


class Conflict(AppError):
    status_code = 409
    detail = "Conflict"


class TooManyAttempts(AppError):
    status_code = 429
    detail = "Too many failed attempts; try again later"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.response_headers["Retry-After"] = str(max(1, retry_after_seconds))


class ServiceUnavailable(AppError):
    status_code = 503
    detail = "The database is unavailable; try again shortly"
    headers = MappingProxyType({"Retry-After": "5"})
