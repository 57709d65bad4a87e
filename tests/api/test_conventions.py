"""The API's conventions, checked over the whole OpenAPI document and through HTTP.

The table-driven tests walk every operation, so a new endpoint that forgets a convention fails
them; `tests/conventions.py` checks every answer the rest of the suite receives as well.
"""

import re
from typing import Any

import jsonschema_rs
import pytest
from httpx import AsyncClient

from app.api.openapi import TAGS
from app.errors import CATALOGUE
from tests.support import EMAIL, bearer, created_org, login

# Public on purpose: sign-up, logging in, restoring a deleted organization (whose tokens are
# refused: an owner's password authenticates it), and what probes and clients read before they
# have a token. Anything else that publishes no security has lost its token check.
PUBLIC = {
    "organizations_restore",
    "health",
    "ready",
    "metrics",
    "errors_list",
    "errors_read",
    "event_types_list",
    "org_create",
    "org_get",
    "admin_login",
    "auth_login",
    "auth_confirm_verification",
}
TOKEN_OPTIONAL = {"invitations_accept"}
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
async def schema(client: AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def validator(schema: dict[str, Any], part: dict[str, Any]) -> Any:
    """A JSON Schema validator for `part`, resolving its `#/components/...` references."""
    return jsonschema_rs.validator_for({"allOf": [part], "components": schema["components"]})


# --- The catalogue --------------------------------------------------------------------------


def test_every_code_is_snake_case_and_names_an_error_status() -> None:
    assert len(CATALOGUE) > 40
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code), code
        assert entry.code == code
        assert 400 <= entry.status < 600, entry
        assert entry.title, entry
        assert not entry.title.endswith("."), entry


def test_a_code_is_titled_by_its_own_class_not_its_parents() -> None:
    assert CATALOGUE["workspace_not_found"].title == "Workspace not found"
    assert CATALOGUE["token_expired"].title == "Token has expired"
    assert CATALOGUE["not_found"].title == "No such resource or route"
    assert len({entry.title for entry in CATALOGUE.values()}) == len(CATALOGUE)


async def test_the_catalogue_is_served_whole_and_by_code(client: AsyncClient) -> None:
    listed = (await client.get("/errors")).json()["errors"]
    one = await client.get("/errors/organization_name_taken")
    unknown = await client.get("/errors/no_such_code")

    assert {entry["code"] for entry in listed} == set(CATALOGUE)
    assert one.json() == {
        "code": "organization_name_taken",
        "status": 409,
        "title": "An organization with this name already exists",
    }
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "error_code_not_found"


# --- The OpenAPI document -------------------------------------------------------------------


async def test_every_error_response_documents_its_codes_with_valid_examples(
    schema: dict[str, Any],
) -> None:
    for path, method, operation in operations(schema):
        if operation["tags"] == ["monitoring"]:
            continue  # /ready answers 503 with its readiness report, not an error
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            where = f"{method.upper()} {path} {status}"
            content = response.get("content", {})
            examples = content.get("application/json", {}).get("examples", {})
            assert examples, f"{where}: no error codes documented"
            assert "application/problem+json" in content, where
            check = validator(schema, content["application/json"]["schema"])
            for code, example in examples.items():
                assert code in CATALOGUE, f"{where}: {code} is not in the catalogue"
                assert CATALOGUE[code].status == int(status), f"{where}: {code}"
                assert check.is_valid(example["value"]), f"{where}: {example}"
                if path.startswith("/api/"):
                    assert example["value"]["code"] == code, where
                assert f"`{code}`" in response["description"], where


async def test_every_example_in_the_document_validates_against_its_schema(
    schema: dict[str, Any],
) -> None:
    checked = 0
    for name, component in schema["components"]["schemas"].items():
        for example in component.get("examples", []):
            assert validator(schema, component).is_valid(example), (name, example)
            checked += 1
    for path, method, operation in operations(schema):
        bodies = [operation.get("requestBody", {}), *list(operation["responses"].values())]
        for body in bodies:
            for media in body.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    assert validator(schema, media["schema"]).is_valid(example["value"]), (
                        f"{method.upper()} {path}: {example}"
                    )
                    checked += 1
    assert checked > 100


async def test_operation_ids_are_area_and_action(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
        assert len(operation_id) <= 40, operation_id


async def test_tags_are_declared_described_and_in_reading_order(schema: dict[str, Any]) -> None:
    declared = [tag["name"] for tag in schema["tags"]]
    assert declared == [tag["name"] for tag in TAGS]
    assert all(tag["description"] for tag in schema["tags"])
    for path, method, operation in operations(schema):
        [tag] = operation["tags"]
        assert tag in declared, (method, path)


async def test_public_operations_say_so_and_the_rest_need_a_token(
    schema: dict[str, Any],
) -> None:
    for path, _, operation in operations(schema):
        operation_id, security = operation["operationId"], operation["security"]
        if path.startswith("/api/v1/admin/"):
            # The platform API takes platform keys only.
            assert security == [{"PlatformKey": []}], operation_id
        elif operation_id in PUBLIC:
            assert security == [], operation_id
        elif operation_id in TOKEN_OPTIONAL:
            assert {} in security, operation_id
            assert {"HTTPBearer": []} in security, operation_id
        else:
            assert security == [{"HTTPBearer": []}], operation_id


async def test_response_headers_are_declared(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert "X-Request-ID" in headers, f"{where} {status}"
            if status == "201":
                assert "Location" in headers, where
            if status in ("429", "503"):
                assert "Retry-After" in headers, f"{where} {status}"
        if not path.startswith("/api/"):
            continue
        if method == "get":
            assert "ETag" in operation["responses"]["200"]["headers"], where
            assert "304" in operation["responses"], where
            assert "If-None-Match" in names, where
        elif method in ("put", "patch", "delete") and "get" in schema["paths"][path]:
            # A change where a read answers can be made conditional.
            assert "412" in operation["responses"], where
            assert {"If-Match", "if-match"} & names, where


async def test_time_fields_are_documented_as_rfc3339(schema: dict[str, Any]) -> None:
    def times(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("format") == "date-time" else []
            return found + [t for value in node.values() for t in times(value)]
        if isinstance(node, list):
            return [t for value in node for t in times(value)]
        return []

    documented = times(schema["components"]["schemas"])
    assert len(documented) >= 8
    assert all(node["type"] == "string" for node in documented)


# --- Errors through HTTP ---------------------------------------------------------------------


async def test_versioned_errors_carry_a_code_and_the_contract_ones_keep_their_shape(
    client: AsyncClient,
) -> None:
    await created_org(client)
    versioned = await client.get("/api/v1/organizations")
    contract = await client.get("/org/get", params={"organization_name": "Nobody"})

    assert versioned.status_code == 401
    assert versioned.json() == {"detail": "Not authenticated", "code": "unauthenticated"}
    assert contract.json() == {"detail": "Organization not found"}


async def test_problem_details_on_request(client: AsyncClient) -> None:
    problem = {"Accept": "application/problem+json"}
    await created_org(client)
    taken = await client.post(
        "/org/create",
        json={
            "organization_name": "Tech Innovations Corp",
            "email": "x@y.com",
            "password": "p" * 12,
        },
        headers=problem,
    )
    invalid = await client.post("/api/v1/auth/login", json={"email": 3}, headers=problem)
    missing = await client.get("/api/v1/nowhere", headers=problem)
    preferred_plain = await client.get(
        "/api/v1/organizations",
        headers={"Accept": "application/json, application/problem+json;q=0.5"},
    )

    assert taken.status_code == 409
    assert taken.headers["content-type"] == "application/problem+json"
    assert taken.json() == {
        "type": "/errors/organization_name_taken",
        "title": "An organization with this name already exists",
        "status": 409,
        "detail": "An organization with this name already exists",
        "code": "organization_name_taken",
        "instance": "/org/create",
    }
    body = invalid.json()
    assert invalid.status_code == 400
    assert body["code"] == "invalid_input"
    assert isinstance(body["detail"], str)
    assert {tuple(error["loc"]) for error in body["errors"]} >= {
        ("body", "email"),
        ("body", "password"),
    }
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    assert preferred_plain.headers["content-type"] == "application/json"
    assert preferred_plain.json()["code"] == "unauthenticated"


async def test_a_body_over_the_limit_is_a_coded_413(client: AsyncClient) -> None:
    token = await login(client) if (await created_org(client)) else ""
    response = await client.post(
        "/api/v1/auth/switch",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={**bearer(token), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


# --- Conditional requests and Location -------------------------------------------------------


async def test_reads_answer_304_while_their_etag_is_current(client: AsyncClient) -> None:
    org = await created_org(client)
    auth = bearer(await login(client))
    path = f"/api/v1/organizations/{org['id']}"

    first = await client.get(path, headers=auth)
    tag = first.headers["etag"]
    again = await client.get(path, headers={**auth, "If-None-Match": tag})
    star = await client.get(path, headers={**auth, "If-None-Match": "*"})
    listed = await client.get(path, headers={**auth, "If-None-Match": f'"other", W/{tag}'})
    changed = await client.patch(path, json={"description": "Now with a profile"}, headers=auth)
    after = await client.get(path, headers={**auth, "If-None-Match": tag})

    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "x-request-id" in again.headers
    assert star.status_code == 304
    assert listed.status_code == 304
    assert changed.status_code == 200
    assert after.status_code == 200
    assert after.headers["etag"] != tag


async def test_if_match_refuses_a_change_to_a_resource_changed_since(
    client: AsyncClient,
) -> None:
    org = await created_org(client)
    auth = bearer(await login(client))
    path = f"/api/v1/organizations/{org['id']}"
    tag = (await client.get(path, headers=auth)).headers["etag"]

    stale = await client.patch(
        path, json={"description": "mine"}, headers={**auth, "If-Match": '"0123"'}
    )
    weak = await client.patch(
        path, json={"description": "mine"}, headers={**auth, "If-Match": f"W/{tag}"}
    )
    unchanged = (await client.get(path, headers=auth)).json()
    current = await client.patch(
        path, json={"description": "first"}, headers={**auth, "If-Match": f'"x", {tag}'}
    )
    lost_update = await client.patch(
        path, json={"description": "second"}, headers={**auth, "If-Match": tag}
    )
    anything = await client.patch(
        path, json={"description": "third"}, headers={**auth, "If-Match": "*"}
    )

    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert weak.status_code == 412
    assert unchanged["profile"]["description"] is None
    assert current.status_code == 200
    assert lost_update.status_code == 412
    assert anything.status_code == 200
    assert (await client.get(path, headers=auth)).json()["profile"]["description"] == "third"


async def test_documents_take_if_match_lists_and_star_against_their_version(
    client: AsyncClient,
) -> None:
    org = await created_org(client)
    auth = bearer(await login(client))
    created = await client.post(
        f"/api/v1/organizations/{org['id']}/documents", json={"n": 1}, headers=auth
    )
    path = created.headers["location"]

    listed = await client.patch(path, json={"n": 2}, headers={**auth, "If-Match": '"7", "1"'})
    weak = await client.patch(path, json={"n": 3}, headers={**auth, "If-Match": 'W/"2"'})
    star = await client.patch(path, json={"n": 4}, headers={**auth, "If-Match": "*"})
    garbled = await client.patch(path, json={"n": 5}, headers={**auth, "If-Match": "2"})
    cached = await client.get(path, headers={**auth, "If-None-Match": '"3"'})

    assert created.status_code == 201
    assert created.headers["etag"] == '"1"'
    assert listed.status_code == 200
    assert listed.headers["etag"] == '"2"'
    assert weak.status_code == 412
    assert weak.json()["code"] == "precondition_failed"
    assert star.status_code == 200
    assert star.json()["n"] == 4
    assert garbled.status_code == 400
    assert garbled.json()["detail"][0]["loc"] == [
        "header",
        "if-match",
    ]
    assert cached.status_code == 304


async def test_every_201_says_where_the_new_resource_is(client: AsyncClient) -> None:
    created = await client.post(
        "/org/create",
        json={
            "organization_name": "Tech Innovations Corp",
            "email": EMAIL,
            "password": "SecurePassword123",
        },
    )
    auth = bearer(await login(client))
    org = created.json()["id"]
    base = f"/api/v1/organizations/{org}"
    made = [
        created,
        await client.post(f"{base}/documents", json={"title": "x"}, headers=auth),
        await client.post(f"{base}/workspaces", json={"name": "Research"}, headers=auth),
        await client.post(
            f"{base}/invitations",
            json={"email": "new@techcorp.com", "role": "member"},
            headers=auth,
        ),
    ]

    for response in made:
        assert response.status_code == 201, response.text
        found = await client.get(response.headers["location"], headers=auth)
        assert found.status_code == 200, response.headers["location"]
        assert found.json()["id"] == response.json()["id"]


async def test_documents_show_their_server_times_in_rfc3339(client: AsyncClient) -> None:
    org = await created_org(client)
    auth = bearer(await login(client))
    created = await client.post(
        f"/api/v1/organizations/{org['id']}/documents", json={"title": "x"}, headers=auth
    )

    body = created.json()
    assert RFC3339_UTC.match(body["created_at"])
    assert RFC3339_UTC.match(body["updated_at"])
    assert body["created_at"] == body["updated_at"]
