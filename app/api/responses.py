"""OpenAPI details: the error bodies clients really get, and 400 in place of FastAPI's 422."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str


class Message(BaseModel):
    message: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[ValidationErrorItem]


def error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


INVALID_INPUT: dict[int | str, dict[str, Any]] = {
    400: {"model": ValidationErrorBody, "description": "Invalid input; `loc` names the field."}
}
UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: error("Missing, invalid or expired token (`WWW-Authenticate: Bearer`).")
}


def install_openapi(app: FastAPI) -> None:
    """Drop the 422 responses FastAPI documents by default: this service answers 400."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
