"""OpenAPI details: the error bodies clients really get, and 400 in place of FastAPI's 422."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from app.api.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER, covers
from app.idempotency.errors import (
    HEADER,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)


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
            document_idempotency(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same key to retry safely: the first answer is replayed for 24 hours",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
}
_REPLAYED: dict[str, Any] = {
    "description": "`true` when this is the saved answer to an earlier request with the key.",
    "schema": {"type": "string", "enum": ["true"]},
}
_IDEMPOTENCY_ERRORS: dict[str, tuple[type[BaseModel], str]] = {
    "400": (
        ValidationErrorBody,
        f"`{InvalidIdempotencyKey.code}`: the `{HEADER}` header is malformed.",
    ),
    "409": (
        ErrorBody,
        f"`{IdempotencyRequestInProgress.code}`: the first request with this `{HEADER}` "
        "is still running; see `Retry-After`.",
    ),
    "422": (
        ErrorBody,
        f"`{IdempotencyKeyReused.code}`: this `{HEADER}` was first sent with another request.",
    ),
}


def document_idempotency(schema: dict[str, Any]) -> None:
    """Declare `Idempotency-Key`, its refusals and `Idempotent-Replayed` on every operation
    the idempotency middleware covers (the same `covers` decides both)."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not covers(method, path):
                continue
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_PARAMETER))
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = _REPLAYED
            for status, (model, description) in _IDEMPOTENCY_ERRORS.items():
                known = responses.get(status)
                if known is None:
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": _component(schema, model)}},
                    }
                else:
                    known["description"] = f"{known.get('description', '')} Or {description}"


def _component(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """A reference to `model` among the schema's components, entered there if missing."""
    template = "#/components/schemas/{model}"
    definition = model.model_json_schema(ref_template=template)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, nested in definition.pop("$defs", {}).items():
        components.setdefault(name, nested)
    components.setdefault(model.__name__, definition)
    return {"$ref": template.format(model=model.__name__)}
