"""Whatever a client sends, the answer is deliberate: never a 500, never a stack trace."""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient
from starlette.routing import BaseRoute

from app.api.bodies import CheckedBodyRoute
from tests.hostile import (
    DOCUMENT_TARGETS,
    NAME_TARGETS,
    OTHER_TARGETS,
    Target,
    arena,
    refuses_names,
    sweep,
)
from tests.support import bearer, created_org, login

ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    [],
    ["Tech Innovations Corp"],
    {},
    {"$ne": None},
    {"$regex": ".*"},
    "",
    " ",
    "\x00",
    "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "A" * 100_000,
    "💥" * 80,
    "<script>alert(1)</script>",
    "'; db.dropDatabase(); '",
]
BODIES: list[Any] = [
    *[{"organization_name": v, "email": v, "password": v} for v in ODD_VALUES],
    *[
        {"organization_name": v, "email": "a@example.com", "password": "SecurePassword123"}
        for v in ODD_VALUES
    ],
    [],
    "just a string",
    42,
    None,
]
ENDPOINTS = [
    ("POST", "/org/create"),
    ("PUT", "/org/update"),
    ("DELETE", "/org/delete"),
    ("POST", "/admin/login"),
]


@pytest.fixture
async def token(client: AsyncClient) -> str:
    await created_org(client)
    return await login(client)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_odd_json_bodies_never_cause_a_server_error(
    client: AsyncClient, token: str, method: str, path: str
) -> None:
    for body in BODIES:
        response = await client.request(method, path, json=body, headers=bearer(token))

        assert response.status_code < 500, (body, response.text)
        assert "Traceback" not in response.text


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"organization_name=x", "application/x-www-form-urlencoded"),
        (b'{"organization_name": "x"}', "text/plain"),
    ],
)
async def test_malformed_payloads_are_400(
    client: AsyncClient, token: str, method: str, path: str, content: bytes, content_type: str
) -> None:
    response = await client.request(
        method, path, content=content, headers={**bearer(token), "content-type": content_type}
    )

    assert response.status_code == 400, response.text
    assert isinstance(response.json()["detail"], list)


@pytest.mark.parametrize("value", [v[:2000] for v in ODD_VALUES if isinstance(v, str)])
async def test_odd_lookup_parameters_never_cause_a_server_error(
    client: AsyncClient, value: str
) -> None:
    response = await client.get("/org/get", params={"organization_name": value})

    assert response.status_code in {400, 404}


@pytest.mark.parametrize("target", DOCUMENT_TARGETS + OTHER_TARGETS, ids=lambda t: t.name)
async def test_values_mongodb_cannot_hold_are_refused_naming_the_field(
    client: AsyncClient, target: Target
) -> None:
    await sweep(await arena(client), target)


def _routes(routes: list[BaseRoute]) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _routes(included.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def test_every_route_that_takes_a_body_checks_its_values(app: FastAPI) -> None:
    taking_bodies = [route for route in _routes(app.routes) if route.body_field is not None]

    assert len(taking_bodies) > 20
    unchecked = [route.path for route in taking_bodies if not isinstance(route, CheckedBodyRoute)]
    assert unchecked == []


@pytest.mark.parametrize("target", NAME_TARGETS, ids=lambda t: t.name)
async def test_every_name_refuses_control_and_invisible_characters(
    client: AsyncClient, target: Target
) -> None:
    await refuses_names(await arena(client), target)


async def test_every_name_is_normalized_the_same_way(client: AsyncClient) -> None:
    place = await arena(client)
    org = f"/api/v1/organizations/{place.org}"
    messy = "  Sales\n\t Team  "

    profile = await client.patch(org, json={"display_name": messy}, headers=place.headers)
    workspace = await client.post(f"{org}/workspaces", json={"name": messy}, headers=place.headers)
    billing = await client.patch(
        f"{org}/billing",
        json={
            "billing_address": {
                "line1": messy,
                "city": "Berlin",
                "postal_code": "10117",
                "country": "DE",
            }
        },
        headers=place.headers,
    )

    assert profile.json()["profile"]["display_name"] == "Sales Team"
    assert workspace.json()["name"] == "Sales Team"
    assert billing.json()["billing_address"]["line1"] == "Sales Team"


async def test_a_key_that_cannot_be_written_is_named_with_escapes_in_problem_details(
    client: AsyncClient,
) -> None:
    place = await arena(client)

    response = await client.post(
        place.documents,
        content=b'{"a": {"\\udc00": 1}}',
        headers={
            **place.headers,
            "content-type": "application/json",
            "accept": "application/problem+json",
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["body", "a", "\\udc00"]
