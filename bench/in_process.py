"""The service inside the bench process on the in-memory store (mongomock, `memory://`).

Driven through httpx's ASGI transport: no network and no server process, so a bench can reach
into the store itself (seed a tenant collection, read the registry) between requests.
"""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from pymongo.asynchronous.collection import AsyncCollection

from app.config import ExplicitSettings
from app.db.memory import open_memory_store
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.factory import create_app
from bench.stores import MEMORY_URI

BASE_URL = "http://bench.invalid"

Document = dict[str, Any]


def memory_settings(**fields: Any) -> ExplicitSettings:
    """Settings for the in-memory service from keyword arguments only (the environment and
    `.env` are ignored): cheap hashing, no recovery sweeps, plus `fields`."""
    return ExplicitSettings(
        mongo_uri=MEMORY_URI,
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        recovery_interval_seconds=0,
        # The in-memory store announces itself at WARNING; the bench knows.
        log_level="ERROR",
        **fields,
    )


@dataclass(frozen=True)
class Service:
    client: httpx.AsyncClient
    store: Store
    settings: ExplicitSettings

    @property
    def registry(self) -> AsyncCollection[Document]:
        """The organizations collection in the master database."""
        return self.store.master[ORGANIZATIONS]


@asynccontextmanager
async def running_service(
    settings: ExplicitSettings, request_timeout: float
) -> AsyncIterator[Service]:
    """The app started (lifespan included) on a fresh in-memory store, and a client for it
    whose requests may take up to `request_timeout` seconds."""
    # The app is built first so that its logging set-up is in place before the store opens;
    # the opener runs only at start-up, when `store` exists.
    app = create_app(settings, store_opener=lambda _: store)
    store = open_memory_store(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=BASE_URL,
            timeout=request_timeout,
        ) as client,
    ):
        yield Service(client, store, settings)
