"""How every error is answered: `{"detail": ..., "code": ...}`, or RFC 9457 problem details.

The versioned API adds the stable `code` of `app.errors` to FastAPI's `{"detail": ...}`; the
compatibility endpoints keep their bodies exactly as they always were. A client that asks for
`application/problem+json` (in `Accept`) gets problem details on any endpoint:
`type` (a reference to the code's entry in the catalogue at `/errors/{code}`), `title`,
`status`, `detail`, `code`, `instance` (the request path), and `errors` naming each invalid
field when the input was invalid.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pymongo.errors import AutoReconnect, ConnectionFailure, PyMongoError, WriteConcernError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from app.api.methods import allow_header, allowed_methods
from app.db.values import printable
from app.errors import (
    AppError,
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from app.kit.request_context import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# Paths whose error bodies carry `code`: all but the compatibility endpoints'.
CODED_PREFIXES = ("/api/", "/errors")
ERRORS_PATH = "/errors"
_FRAMEWORK_ERRORS: dict[int, type[AppError]] = {
    400: InvalidInput,
    404: NotFound,
}


def validation_error_items(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Reduce pydantic errors to what a client needs: where, what, and which rule.

    The offending input is left out on purpose: it may be a password.
    """
    return [
        {
            "loc": _printable_location(error.get("loc", ())),
            "msg": printable(str(error.get("msg", ""))),
            "type": error.get("type"),
        }
        for error in errors
    ]


def _printable_location(location: Sequence[Any]) -> list[Any]:
    """A location that can be written as UTF-8 even when it names a key that cannot."""
    return [printable(part) if isinstance(part, str) else part for part in location]


def _quality(parameters: list[str]) -> float:
    for parameter in parameters:
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def wants_problem(accept: str | None) -> bool:
    """Whether `Accept` prefers problem details (RFC 9457) to plain JSON (RFC 9110 §12.5.1)."""
    if not accept or "problem" not in accept:
        return False
    problem = plain = 0.0
    for media_range in accept.split(","):
        media_type, *parameters = media_range.split(";")
        media_type = media_type.strip().lower()
        quality = _quality(parameters)
        if media_type == PROBLEM_JSON:
            problem = max(problem, quality)
        elif media_type in ("application/json", "application/*", "*/*"):
            plain = max(plain, quality)
    return problem > 0 and problem >= plain


def error_response(
    error: AppError,
    *,
    path: str,
    accept: str | None,
    items: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """The response for `error` on `path`, in the form `accept` asks for.

    `items` are the invalid fields of a 400 (FastAPI's `detail` list).
    """
    request_id = current_request_id() if error.status_code >= 500 else None
    if wants_problem(accept):
        body: dict[str, Any] = {
            "type": f"{ERRORS_PATH}/{error.code}",
            "title": error.entry().title,
            "status": error.status_code,
            "detail": error.message,
            "code": error.code,
            "instance": path,
        }
        if items is not None:
            body["errors"] = items
        media_type = PROBLEM_JSON
    else:
        body = {"detail": items if items is not None else error.message}
        if path.startswith(CODED_PREFIXES):
            body["code"] = error.code
        media_type = "application/json"
    for name, value in error.extra.items():
        body.setdefault(name, value)
    if request_id is not None:
        body["request_id"] = request_id
    return JSONResponse(
        body,
        status_code=error.status_code,
        headers=error.response_headers,
        media_type=media_type,
    )


def scope_error_response(error: AppError, scope: Scope) -> JSONResponse:
    """`error_response` for ASGI middleware, which has a scope rather than a request."""
    return error_response(
        error,
        path=scope.get("path", ""),
        accept=Headers(scope=scope).get("accept"),
        items=_invalid_items(error),
    )


def _invalid_items(error: AppError) -> list[dict[str, Any]] | None:
    """The validation shape of an `InvalidInput`: the one field it names."""
    if not isinstance(error, InvalidInput):
        return None
    return [
        {
            "loc": _printable_location(error.location),
            "msg": printable(error.message),
            "type": "value_error",
        }
    ]


def _respond(
    request: Request, error: AppError, items: list[dict[str, Any]] | None = None
) -> JSONResponse:
    return error_response(
        error, path=request.url.path, accept=request.headers.get("accept"), items=items
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)  # noqa: S101 - registered for AppError only
    return _respond(request, exc, _invalid_items(exc))


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    return _respond(
        request, InvalidInput((), "Invalid input"), validation_error_items(exc.errors())
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Framework errors keep their status and text; a 400 (an unreadable body) gets the
    validation shape."""
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101
    if exc.status_code == 405:
        return _method_not_allowed(request, exc)
    kind = _FRAMEWORK_ERRORS.get(exc.status_code)
    if kind is None:
        return await http_exception_handler(request, exc)
    if kind is InvalidInput:
        error: AppError = InvalidInput(("body",), str(exc.detail))
        items = [{"loc": ["body"], "msg": str(exc.detail), "type": "body_unreadable"}]
        response = _respond(request, error, items)
    else:
        error = kind(str(exc.detail))
        response = _respond(request, error)
        response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _method_not_allowed(request: Request, exc: StarletteHTTPException) -> Response:
    """A 405 names every method of the path, not only those of the route the router met
    first; OPTIONS, which no route declares, is answered for any path that exists."""
    methods = allowed_methods(request)
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=allow_header(methods))
    response = _respond(request, MethodNotAllowed(str(exc.detail)))
    response.headers.update(allow_header(methods))
    return response


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ConnectionFailure | AutoReconnect):
        logger.warning("database unreachable: %s", type(exc).__name__)
        error: AppError = ServiceUnavailable()
    elif isinstance(exc, WriteConcernError):
        # Done on the primary, not (yet) on enough members: passing, and not to be reported
        # as done; the same request sent again finds where it stands.
        logger.warning("write concern not met: code %s", exc.code)
        error = ServiceUnavailable()
    else:
        # Driver messages can name collections, indexes and values: log them, never return them.
        logger.error("unexpected database error", exc_info=exc)
        error = AppError()
    return _respond(request, error)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PyMongoError, _database_error)
