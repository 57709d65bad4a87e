"""Behaviour every endpoint shares: health, request ids, error bodies, the OpenAPI document."""

import logging

import pytest
from httpx import AsyncClient
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from app.registry.repository import OrganizationRepository
from tests.support import created_org


async def test_health_answers_the_contract(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "operational", "service": "Organization Management API"}


async def test_every_response_carries_a_request_id(client: AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    assert len(first.headers["x-request-id"]) >= 16
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_request_id_is_echoed_and_an_odd_one_replaced(client: AsyncClient) -> None:
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-123.abc"})
    replaced = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})

    assert echoed.headers["x-request-id"] == "trace-123.abc"
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"


async def test_unknown_paths_and_methods_answer_json(client: AsyncClient) -> None:
    missing = await client.get("/nowhere")
    wrong_method = await client.get("/org/create")

    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert wrong_method.status_code == 405


async def test_an_unexpected_error_is_a_generic_500_logged_with_its_request_id(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(self: OrganizationRepository, key: str) -> None:
        raise ValueError("internal detail: collection organizations, secret sauce")

    monkeypatch.setattr(OrganizationRepository, "find_visible_by_name_key", explode)

    with caplog.at_level(logging.ERROR):
        response = await client.get(
            "/org/get", params={"organization_name": "X"}, headers={"X-Request-ID": "req-500"}
        )

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "request_id": "req-500"}
    assert "secret sauce" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(getattr(r, "request_id", None) == "req-500" and r.exc_info for r in logged)


async def test_a_database_error_never_reaches_the_client(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fail(self: OrganizationRepository, key: str) -> None:
        raise OperationFailure("E11000 something about index name_key_unique dup key")

    async def unreachable(self: OrganizationRepository, key: str) -> None:
        raise ServerSelectionTimeoutError("mongo.internal:27017 timed out")

    monkeypatch.setattr(OrganizationRepository, "find_visible_by_name_key", fail)
    failed = await client.get("/org/get", params={"organization_name": "X"})
    monkeypatch.setattr(OrganizationRepository, "find_visible_by_name_key", unreachable)
    down = await client.get("/org/get", params={"organization_name": "X"})

    assert failed.status_code == 500
    assert "E11000" not in failed.text
    assert down.status_code == 503
    assert down.headers["retry-after"] == "5"
    assert "mongo.internal" not in down.text


async def test_the_openapi_document_promises_400_not_422(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    operations = [op for path in schema["paths"].values() for op in path.values()]
    # The only 422 is a reused `Idempotency-Key`, never a validation failure.
    unprocessable = [op["responses"]["422"] for op in operations if "422" in op["responses"]]
    assert all("idempotency_key_reused" in response["description"] for response in unprocessable)
    create = schema["paths"]["/org/create"]["post"]
    assert {"201", "400", "409"} <= set(create["responses"])
    assert set(schema["paths"]) >= {
        "/org/create",
        "/org/get",
        "/org/update",
        "/org/delete",
        "/admin/login",
        "/health",
    }
    assert (await client.get("/docs")).status_code == 200


async def test_the_contract_flow_end_to_end(client: AsyncClient) -> None:
    """The README's curl walk-through, step by step."""
    created = await created_org(client)
    found = await client.get("/org/get", params={"organization_name": "Tech Innovations Corp"})
    login = await client.post(
        "/admin/login", json={"email": "admin@techcorp.com", "password": "SecurePassword123"}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    renamed = await client.put(
        "/org/update",
        json={
            "organization_name": "Tech Innovations Corp 2.0",
            "email": "admin@techcorp.com",
            "password": "SecurePassword123",
        },
        headers=headers,
    )
    deleted = await client.request(
        "DELETE",
        "/org/delete",
        json={"organization_name": "Tech Innovations Corp 2.0"},
        headers=headers,
    )

    assert found.json() == created
    assert renamed.json()["current_collection"] == "tenant_tech_innovations_corp_2_0"
    assert deleted.status_code == 200
