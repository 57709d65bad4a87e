from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import EMAIL, NAME, PASSWORD


async def test_responses_carry_security_headers(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers


async def test_the_docs_pages_may_load_scripts_from_the_service_only(
    client: AsyncClient,
) -> None:
    for page in ("/docs", "/redoc"):
        response = await client.get(page)

        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self' 'unsafe-inline'" in policy
        assert "http" not in policy


async def test_https_responses_carry_hsts(client: AsyncClient) -> None:
    response = await client.get("https://test/health")

    assert "max-age" in response.headers["strict-transport-security"]


async def test_an_oversized_body_is_413(client: AsyncClient, settings: Settings) -> None:
    padding = "x" * settings.max_request_bytes
    response = await client.post(
        "/org/create", json={"organization_name": padding, "email": EMAIL, "password": PASSWORD}
    )

    assert response.status_code == 413
    assert "x-request-id" in response.headers


async def test_an_oversized_body_without_a_length_is_413(
    client: AsyncClient, settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.max_request_bytes // 1024 + 2):
            yield b" " * 1024

    response = await client.post(
        "/org/create", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413


async def test_unknown_fields_are_refused(client: AsyncClient) -> None:
    response = await client.post(
        "/org/create",
        json={"organization_name": NAME, "email": EMAIL, "password": PASSWORD, "role": "root"},
    )

    assert response.status_code == 400
    assert response.json()["detail"][0]["loc"] == ["body", "role"]


async def test_cors_is_off_unless_configured(client: AsyncClient) -> None:
    response = await client.options(
        "/org/get",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"},
    )

    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("origin", "allowed"), [("https://app.example.com", True), ("https://evil.example", False)]
)
async def test_configured_origins_may_call_the_api(
    settings: Settings, store: Store, origin: str, allowed: bool
) -> None:
    configured = settings.model_copy(update={"cors_origins": "https://app.example.com"})
    app = create_app(configured, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        response = await client.options(
            "/org/get",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )

    assert (response.headers.get("access-control-allow-origin") == origin) is allowed


async def test_a_small_body_without_a_length_is_served(client: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"organization_name": "Chunked Corp", '
        yield b'"email": "chunk@example.com", "password": "SecurePassword123"}'

    response = await client.post(
        "/org/create", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 201
