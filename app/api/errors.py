"""The handlers that render every error as JSON, keeping FastAPI's `{"detail": ...}` shape."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pymongo.errors import AutoReconnect, ConnectionFailure, PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, InvalidInput, ServiceUnavailable
from app.kit.request_context import current_request_id

logger = logging.getLogger(__name__)


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
