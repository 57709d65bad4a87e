"""The service's one error hierarchy and the handlers that render every error as JSON.

Services raise `AppError` subclasses; nothing below the routers knows about HTTP beyond the
status code each error carries. Bodies keep FastAPI's `{"detail": ...}` shape.
"""

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pymongo.errors import AutoReconnect, ConnectionFailure, PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.request_context import current_request_id

logger = logging.getLogger(__name__)

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


def validation_error_items(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Reduce pydantic errors to what a client needs: where, what, and which rule.

    The offending input is left out on purpose: it may be a password.
    """
    return [
        {
            "loc": list(error.get("loc", ())),
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in errors
    ]


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    if isinstance(exc, InvalidInput):
        body: Any = [{"loc": list(exc.location), "msg": exc.message, "type": "value_error"}]
    else:
        body = exc.message
    return JSONResponse({"detail": body}, status_code=exc.status_code, headers=exc.response_headers)


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return JSONResponse({"detail": validation_error_items(exc.errors())}, status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Framework errors keep their status; a 400 (an unreadable body) gets the validation shape."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if exc.status_code == 400:
        detail = [{"loc": ["body"], "msg": str(exc.detail), "type": "body_unreadable"}]
        return JSONResponse({"detail": detail}, status_code=400, headers=exc.headers)
    return await http_exception_handler(request, exc)


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ConnectionFailure | AutoReconnect):
        logger.warning("database unreachable: %s", type(exc).__name__)
        error: AppError = ServiceUnavailable()
    else:
        # Driver messages can name collections, indexes and values: log them, never return them.
        logger.error("unexpected database error", exc_info=exc)
        error = AppError()
    body: dict[str, Any] = {"detail": error.message}
    if error.status_code == 500:
        body["request_id"] = current_request_id()
    return JSONResponse(body, status_code=error.status_code, headers=error.response_headers)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PyMongoError, _database_error)
