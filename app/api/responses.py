"""What the OpenAPI document says about answers: error bodies with their codes, headers.

`errors(...)` declares an operation's error responses from the error classes it can raise, so
each status lists the codes a client may meet there, with an example of each.
"""

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field

from app.apikeys.service import ApiKeyNotAllowed, ApiKeyRateLimited
from app.errors import (
    AppError,
    InvalidInput,
    NotAuthenticated,
    TokenExpired,
    TokenRevoked,
)

Responses = dict[int | str, dict[str, Any]]


class ErrorBody(BaseModel):
    detail: str = Field(description="What went wrong, for people; the wording may change.")
    code: str = Field(description="What went wrong, for programs: see `GET /errors`.")


class ContractErrorBody(BaseModel):
    detail: str


class Message(BaseModel):
    message: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then the field."
    )
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[ValidationErrorItem]
    code: str = Field(description="`invalid_input`, or a more precise code.")


class ContractValidationErrorBody(BaseModel):
    detail: list[ValidationErrorItem]


class Problem(BaseModel):
    """RFC 9457 problem details, answered when `Accept` asks for `application/problem+json`."""

    type: str = Field(description="The code's entry in the catalogue: `/errors/{code}`.")
    title: str
    status: int
    detail: str
    code: str
    instance: str = Field(description="The request's path.")
    errors: list[ValidationErrorItem] | None = Field(
        default=None, description="The invalid fields, when the input was invalid."
    )
    request_id: str | None = Field(default=None, description="Quote it when reporting a 5xx.")


# Every authenticated operation can meet these (an API key sent where only a person may
# act, or one over its rate, included).
AUTHENTICATION: tuple[type[AppError], ...] = (
    NotAuthenticated,
    TokenExpired,
    TokenRevoked,
    ApiKeyNotAllowed,
    ApiKeyRateLimited,
)


def _example(kind: type[AppError], versioned: bool) -> dict[str, Any]:
    detail: Any = kind.detail
    if issubclass(kind, InvalidInput):
        detail = [
            {"loc": ["body", "email"], "msg": "value is not a valid email", "type": "value_error"}
        ]
    value: dict[str, Any] = {"detail": detail}
    if versioned:
        value["code"] = kind.code
    return {"summary": kind.entry().title, "value": value}


def _models(status: int, versioned: bool) -> type[BaseModel]:
    if status == 400:
        return ValidationErrorBody if versioned else ContractValidationErrorBody
    return ErrorBody if versioned else ContractErrorBody


def errors(*kinds: type[AppError], versioned: bool = True) -> Responses:
    """The error responses of an operation that can raise `kinds`, grouped by status."""
    by_status: dict[int, list[type[AppError]]] = defaultdict(list)
    for kind in kinds:
        if kind not in by_status[kind.status_code]:
            by_status[kind.status_code].append(kind)
    responses: Responses = {}
    for status, group in sorted(by_status.items()):
        lines = [f"- `{kind.code}`: {kind.entry().title}" for kind in group]
        responses[status] = {
            "model": _models(status, versioned),
            "description": "\n".join(lines),
            "content": {
                "application/json": {
                    "examples": {kind.code: _example(kind, versioned) for kind in group}
                },
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}},
            },
        }
    return responses


def contract_errors(*kinds: type[AppError]) -> Responses:
    """`errors` for the compatibility endpoints, whose bodies carry no `code`."""
    return errors(*kinds, versioned=False)


def documented_codes(operation: dict[str, Any], status: int) -> set[str]:
    """The codes the OpenAPI `operation` promises for `status`."""
    response = operation.get("responses", {}).get(str(status), {})
    return set(response.get("content", {}).get("application/json", {}).get("examples", {}))
