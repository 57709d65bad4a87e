import asyncio

import pytest
from httpx import AsyncClient
from pymongo.errors import ServerSelectionTimeoutError

from app.api import monitoring as observability
from app.db.store import Store


async def test_ready_when_mongodb_answers(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


async def test_not_ready_when_mongodb_fails(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(self: Store) -> None:
        raise ServerSelectionTimeoutError("db.internal:27017: timed out")

    monkeypatch.setattr(Store, "ping", down)

    response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
    assert "db.internal" not in response.text
    assert (await client.get("/health")).status_code == 200


async def test_not_ready_when_mongodb_hangs(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hang(self: Store) -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr(Store, "ping", hang)
    monkeypatch.setattr(observability, "READY_TIMEOUT_SECONDS", 0.05)

    response = await client.get("/ready")

    assert response.status_code == 503
