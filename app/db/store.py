"""The databases the service works with, on a real MongoDB server or in memory.

The master database holds the registry and the accounts; tenant collections live in one of
several tenant databases, the one the registry records for each organization. Repositories
receive a `Store` and never learn which backend is behind it: the in-memory adapter presents
PyMongo's asynchronous API.
"""

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from app.config import Settings

Document = dict[str, Any]

logger = logging.getLogger(__name__)


class Client(Protocol):
    def get_database(self, name: str) -> AsyncDatabase[Document]: ...

    async def list_database_names(self) -> list[str]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class TenantNamespace:
    """Where one tenant collection lives: a tenant database and a collection in it."""

    database: str
    collection: str

    def __str__(self) -> str:
        return f"{self.database}.{self.collection}"


@dataclass(frozen=True, slots=True)
class Store:
    """The master database (registry, accounts) and the tenant databases."""

    master: AsyncDatabase[Document]
    client: Client
    # Where organizations recorded before placement existed keep their collections.
    default_tenant_db: str
    persistent: bool
    # The databases new tenant collections are placed in (see app.organizations.placement).
    tenant_pool: tuple[str, ...] = ()

    def tenant_database(self, name: str) -> AsyncDatabase[Document]:
        """A tenant database by name; "" is the default one."""
        return self.client.get_database(name or self.default_tenant_db)

    def resolve_database(self, name: str) -> str:
        """The database's name, "" (recorded before placement) being the default one."""
        return name or self.default_tenant_db

    def resolve(self, namespace: TenantNamespace) -> TenantNamespace:
        """The namespace with its database named."""
        return TenantNamespace(self.resolve_database(namespace.database), namespace.collection)

    def collection(self, namespace: TenantNamespace) -> AsyncCollection[Document]:
        return self.tenant_database(namespace.database)[namespace.collection]

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
        client=client,
        default_tenant_db=settings.tenant_db,
        persistent=True,
        tenant_pool=tuple(settings.tenant_database_pool()),
    )
