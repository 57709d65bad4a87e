"""Each test gets its own app on its own in-memory store, driven over ASGI like a real client."""

import dataclasses
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from app.api import state
from app.config import ExplicitSettings, Settings
from app.db.connect import open_store
from app.db.memory import open_memory_store
from app.db.store import Client, Document, Store
from app.factory import create_app
from app.organizations.lifecycle import Checkpoint, no_checkpoint
from tests.conventions import Conventions
from tests.outbox import Outbox

# Background work would interleave with what a test counts, or still be talking to the
# database when a test's service stops; tests that need a sweep or the webhook worker run
# them on purpose.
NO_BACKGROUND_WORK: dict[str, Any] = {
    "recovery_interval_seconds": 0,
    "event_settle_interval_seconds": 0,
    "webhook_worker": False,
    "invitation_expiry_sweep_seconds": 0,
}


@pytest.fixture
def settings() -> Settings:
    return ExplicitSettings(
        mongo_uri="memory://",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        password_hash_workers=4,
        **NO_BACKGROUND_WORK,
        # Tests sign up far more often than anyone could; the throttle's own tests set limits.
        signup_per_address_per_hour=0,
        signup_total_per_hour=0,
    )


class _Unclosable:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return self._client.get_database(name)

    async def list_database_names(self) -> list[str]:
        return await self._client.list_database_names()

    async def close(self) -> None:
        return None


def borrowed(store: Store) -> Store:
    """The same databases for an app that must not close the test's client when it stops."""
    return dataclasses.replace(store, client=_Unclosable(store.client))


@asynccontextmanager
async def running(
    settings: Settings, store: Store, checkpoint: Checkpoint = no_checkpoint
) -> AsyncIterator[AsyncClient]:
    """A service started on `store` (left open when it stops), and a client of it."""
    app = create_app(settings, store_opener=lambda _: borrowed(store), checkpoint=checkpoint)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    """A fresh in-memory store; with MONGODB_TEST_URI, fresh databases on that server."""
    uri = os.environ.get("MONGODB_TEST_URI")
    if not uri:
        yield open_memory_store(settings)
        return
    suffix = uuid.uuid4().hex[:12]
    real = open_store(
        settings.model_copy(
            update={
                "mongo_uri": uri,
                "primary_db": f"tenantry_test_{suffix}",
                "tenant_db": f"tenantry_test_{suffix}_tenants",
                "tenant_db_prefix": f"tenantry_test_{suffix}_tenants_",
            }
        )
    )
    try:
        yield real
    finally:
        for name in await real.client.list_database_names():
            if name.startswith(f"tenantry_test_{suffix}"):
                await real.master.client.drop_database(name)
        await real.close()


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    """Invitation emails land here; a module's `app` fixture that takes it is built after."""
    box = Outbox()
    monkeypatch.setattr(state, "build_sender", lambda _: box)
    return box


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store_opener=lambda _: borrowed(store))


_CONVENTIONS: list[Conventions] = []


def _conventions(app: FastAPI) -> Conventions:
    """Built once: every app of the suite publishes the same document, and building it takes
    longer than most tests."""
    if not _CONVENTIONS:
        _CONVENTIONS.append(Conventions(app.openapi()))
    return _CONVENTIONS[0]


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that also checks every answer against the API's conventions."""
    conventions = _conventions(app)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(
            transport=ASGITransport(app=manager.app),
            base_url="http://test",
            event_hooks={"response": [conventions.check]},
        ) as client,
    ):
        yield client
