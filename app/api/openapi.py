"""The OpenAPI document: short operation ids, tags in reading order, and what FastAPI leaves out.

Operation ids are `<router>_<handler>` (`members_list`), so generated clients get short, stable
names. After FastAPI builds the document, `install_openapi` drops its 422s (this service
answers 400), marks public operations as needing no token, adds the problem-details schema,
and declares the headers every answer carries.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.api.errors import CODED_PREFIXES
from app.api.idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER, covers
from app.api.responses import Problem, errors
from app.errors import AppError
from app.idempotency.errors import (
    HEADER,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    InvalidIdempotencyKey,
)

TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Is the process up? Public, touches no database."},
    {
        "name": "authentication",
        "description": "Log in (`POST /admin/login`), switch organizations, log out. Send the "
        "`access_token` as `Authorization: Bearer <token>`.",
    },
    {
        "name": "organizations",
        "description": "Sign up (`POST /org/create`), look up, rename, delete; the `/org/*` "
        "endpoints keep their original shapes, `/api/v1/organizations` adds the rest.",
    },
    {"name": "members", "description": "Who belongs to an organization, and their roles."},
    {"name": "invitations", "description": "Inviting people by email, and accepting."},
    {
        "name": "roles",
        "description": "The permission catalogue, the five built-in roles and the roles an "
        "organization defines for itself.",
    },
    {
        "name": "domains",
        "description": "Mail domains an organization proves it owns with a DNS TXT record, "
        "and the join policy of each.",
    },
    {
        "name": "joining",
        "description": "Joining an organization by your verified email's domain, and the "
        "join requests owners and admins decide.",
    },
    {
        "name": "workspaces",
        "description": "Groups of documents and members inside one organization.",
    },
    {"name": "documents", "description": "The organization's own JSON documents."},
    {"name": "billing", "description": "The organization's plan and billing details."},
    {"name": "audit", "description": "What changed in an organization, and who changed it."},
    {
        "name": "api keys",
        "description": "Keys for back ends that act for an organization with no one signed in.",
    },
    {
        "name": "events",
        "description": "Every change, once, in order: the pull API and the catalogue of event "
        "types (`EventType`; what each carries is in `GET /api/v1/event-types`).",
    },
    {
        "name": "webhooks",
        "description": "Endpoints that events are sent to, signed as Standard Webhooks "
        "specifies; their attempts, redelivery, replay and secret rotation.",
    },
    {"name": "errors", "description": "The catalogue of error codes."},
    {
        "name": "Platform administration",
        "description": "The operator's own back end: every organization and account, for "
        "a platform key (`Authorization: Bearer tkp_...`, made with `tenantry platform-keys "
        "create`). GETs need the `read` scope, changes `write`. Organization tokens and keys "
        "are refused here, platform keys everywhere else.",
    },
    {"name": "monitoring", "description": "Readiness and Prometheus metrics, for operators."},
]

REQUEST_ID = {
    "description": "The request's id: yours if you sent a sane `X-Request-ID`.",
    "schema": {"type": "string"},
}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {
        "description": "The representation's version; send it back in `If-None-Match` or "
        "`If-Match`.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where the new resource is.", "schema": {"type": "string"}},
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    },
}


def operation_ids(prefix: str) -> Callable[[APIRoute], str]:
    """For a router's `generate_unique_id_function`: `<prefix>_<handler name>`."""

    def unique_id(route: APIRoute) -> str:
        return f"{prefix}_{route.name}" if prefix != route.name else prefix

    return unique_id


def _declare_headers(path: str, method: str, operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        headers = response.setdefault("headers", {})
        headers.setdefault("X-Request-ID", REQUEST_ID)
        if status == "201":
            headers.setdefault("Location", RESPONSE_HEADERS["Location"])
        if status in ("429", "503"):
            headers.setdefault("Retry-After", RESPONSE_HEADERS["Retry-After"])
        if method == "get" and status in ("200", "304") and path.startswith("/api/"):
            headers.setdefault("ETag", RESPONSE_HEADERS["ETag"])


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


IF_NONE_MATCH = _header(
    "If-None-Match", "ETags you hold: `304 Not Modified` (no body) when one is current."
)
IF_MATCH = _header(
    "If-Match",
    'Only if the resource is still at one of these ETags (`"a1b2"`, a list, or `*`); '
    "`412` otherwise.",
)


def _declare_conditions(path: str, item: dict[str, Any]) -> None:
    """Conditional requests as `app.api.conditional` serves them under `/api/v1`: every read
    takes `If-None-Match`, every change that can answer 412 takes `If-Match`."""
    if not path.startswith("/api/"):
        return
    for method, operation in item.items():
        parameters = operation.setdefault("parameters", [])
        names = {parameter["name"].lower() for parameter in parameters}
        if method == "get":
            if "if-none-match" not in names:
                parameters.append(IF_NONE_MATCH)
            operation["responses"].setdefault(
                "304", {"description": "Not modified: the `If-None-Match` ETag is current."}
            )
        elif "412" in operation["responses"] and "if-match" not in names:
            parameters.append(IF_MATCH)


def _models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        for sub in model.__subclasses__():
            if sub.__module__.startswith("app."):
                found.setdefault(sub.__name__, sub)
            pending.append(sub)
    return found


def _restore_examples(components: dict[str, Any]) -> None:
    """FastAPI drops every `null` from the document, the ones inside examples too, which
    leaves an example without its required nullable fields: put the models' own back."""
    models = _models()
    for name, component in components.items():
        model = models.get(name)
        extra = model.model_config.get("json_schema_extra") if model else None
        if "examples" in component and isinstance(extra, dict) and "examples" in extra:
            component["examples"] = extra["examples"]


IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same key to retry safely: the first answer is replayed for 24 hours",
    "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
}
REPLAYED = {
    "description": "`true` when this is the saved answer to an earlier request with the key.",
    "schema": {"type": "string", "enum": ["true"]},
}
IDEMPOTENCY_ERRORS = (InvalidIdempotencyKey, IdempotencyRequestInProgress, IdempotencyKeyReused)


def _add_error(
    schema: dict[str, Any], path: str, operation: dict[str, Any], kind: type[AppError]
) -> None:
    """Document that `operation` can answer `kind`, beside what it already answers."""
    status = str(kind.status_code)
    responses = operation["responses"]
    [declared] = errors(kind, versioned=path.startswith(CODED_PREFIXES)).values()
    model: type[BaseModel] = declared["model"]
    known = responses.get(status)
    if known is None:
        content = declared["content"]
        content["application/json"]["schema"] = _component(schema, model)
        responses[status] = {"description": declared["description"], "content": content}
        return
    known["description"] = f"{known['description']}\n{declared['description']}"
    examples = declared["content"]["application/json"]["examples"]
    known["content"]["application/json"]["examples"].update(examples)


def _component(schema: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    components = schema["components"]["schemas"]
    definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in definition.pop("$defs", {}).items():
        components.setdefault(name, nested)
    components.setdefault(model.__name__, definition)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _declare_idempotency(schema: dict[str, Any], path: str, item: dict[str, Any]) -> None:
    """`Idempotency-Key` where `app.api.idempotency` honours it (the same `covers` decides)."""
    for method, operation in item.items():
        if not covers(method, path):
            continue
        operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_PARAMETER))
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                response.setdefault("headers", {})[REPLAYED_HEADER] = REPLAYED
        for kind in IDEMPOTENCY_ERRORS:
            _add_error(schema, path, operation, kind)


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in problem.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components["Problem"] = problem
            _restore_examples(components)
            for path, item in schema.get("paths", {}).items():
                for operation in item.values():
                    operation.get("responses", {}).pop("422", None)  # this service answers 400
                    operation.setdefault("security", [])  # public unless a token is declared
                _declare_conditions(path, item)
                _declare_idempotency(schema, path, item)
                for method, operation in item.items():
                    _declare_headers(path, method, operation)
            # FastAPI's 422 bodies, which no operation answers any more.
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
