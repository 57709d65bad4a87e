"""The two databases the service works with, on a real MongoDB server or in memory.

Repositories receive a `Store` and never learn which backend is behind it: the in-memory
adapter presents PyMongo's asynchronous API.
"""

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings

Document = dict[str, Any]

logger = logging.getLogger(__name__)


class _Client(Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Store:
    """The master database (registry, accounts) and the database holding tenant collections."""

    master: AsyncDatabase[Document]
    tenants: AsyncDatabase[Document]
    persistent: bool
    client: _Client

    async def ping(self) -> None:
        await self.master.command("ping")

    async def close(self) -> None:
        await self.client.close()


def open_store(
    settings: Settings, pool_listener: monitoring.ConnectionPoolListener | None = None
) -> Store:
    """Create the client for the configured backend. Connecting happens lazily, on first use."""
    if settings.in_memory:
        from app.db.memory import open_memory_store

        return open_memory_store(settings)

    client: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongo_uri,
        appname="tenantry",
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.mongo_timeout_ms,
        maxPoolSize=settings.mongo_max_pool_size,
        event_listeners=[pool_listener] if pool_listener else [],
    )
    return Store(
        master=client.get_database(settings.primary_db),
        tenants=client.get_database(settings.tenant_db),
        persistent=True,
        client=client,
    )
