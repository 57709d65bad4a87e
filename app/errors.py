"""The service's one error hierarchy, and the catalogue of its error codes.

Services raise `AppError` subclasses; nothing below the HTTP layer knows about HTTP beyond the
status code (and headers) each error carries. `app.api.errors` renders them.

Every class names a stable, machine-readable `code` (snake_case) that clients may branch on;
the message (`detail`) is for people and may change. A class that declares a code is entered
in `CATALOGUE`, which the API publishes; two classes may not claim the same code.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

_BEARER_CHALLENGE = MappingProxyType({"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    status: int
    title: str


CATALOGUE: dict[str, ErrorCode] = {}


class AppError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    detail: ClassVar[str] = "Internal server error"
    # What the code means, for the catalogue; the class's `detail` when not given.
    title: ClassVar[str | None] = None
    headers: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init__(self, detail: str | None = None) -> None:
        self.message = detail or self.detail
        self.response_headers: dict[str, str] = dict(self.headers)
        # Fields the response body carries besides `detail` and `code` (never secrets).
        self.extra: dict[str, object] = {}
        super().__init__(self.message)

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if "code" in cls.__dict__:
            _enter(cls)

    @classmethod
    def entry(cls) -> ErrorCode:
        # A title says what one code means: a subclass with a code of its own does not
        # inherit its parent's (`workspace_not_found` is not "no such resource or route").
        own_title = cls.title if "title" in cls.__dict__ or "code" not in cls.__dict__ else None
        return ErrorCode(cls.code, cls.status_code, own_title or cls.detail)


def _enter(cls: type[AppError]) -> None:
    known = CATALOGUE.get(cls.code)
    entry = cls.entry()
    if known is not None and known != entry:
        raise TypeError(f"error code {cls.code!r} is claimed twice")
    CATALOGUE[cls.code] = entry


_enter(AppError)


class InvalidInput(AppError):
    """Input that passed the schema but breaks a domain rule; rendered like a validation error."""

    status_code = 400
    code = "invalid_input"
    detail = "Invalid input"
    title = "The request is malformed or breaks a rule; `loc` names the field"

    def __init__(self, location: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.location = tuple(location)


class NotAuthenticated(AppError):
    status_code = 401
    code = "unauthenticated"
    detail = "Could not validate credentials"
    title = "No bearer token, or one that is malformed or signed with an unknown key"
    headers = _BEARER_CHALLENGE


class TokenExpired(NotAuthenticated):
    code = "token_expired"
    detail = "Token has expired"


class TokenRevoked(NotAuthenticated):
    code = "token_revoked"
    detail = "Token has been revoked"


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid_credentials"
    detail = "Invalid email or password"
    headers = _BEARER_CHALLENGE


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail = "You are not allowed to perform this action"


class RoleNotAllowed(Forbidden):
    code = "role_not_allowed"
    title = "The caller's role does not allow this action"


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = "Not found"
    title = "No such resource or route"


class MethodNotAllowed(AppError):
    status_code = 405
    code = "method_not_allowed"
    detail = "Method Not Allowed"
    title = "The route exists but not for this HTTP method"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = "Conflict"


class PreconditionFailed(AppError):
    status_code = 412
    code = "precondition_failed"
    detail = "The resource has changed since that version (If-Match); read it again"
    title = "`If-Match` names none of the resource's current versions"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "request_too_large"
    detail = "Request body too large"


class TooManyAttempts(AppError):
    status_code = 429
    code = "rate_limited"
    detail = "Too many failed attempts; try again later"
    title = "Too many attempts; `Retry-After` says when to try again"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.response_headers["Retry-After"] = str(max(1, retry_after_seconds))


class ServiceUnavailable(AppError):
    status_code = 503
    code = "database_unavailable"
    detail = "The database is unavailable; try again shortly"
    headers = MappingProxyType({"Retry-After": "5"})
