"""The databases the service works with, on a real MongoDB server or in memory.

The master database holds the registry and the accounts; tenant collections live in one of
several tenant databases, the one the registry records for each organization. Repositories
receive a `Store` and never learn which backend is behind it: the in-memory adapter presents
PyMongo's asynchronous API.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]


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
    # The databases new tenant collections are placed in (see app.registry.placement).
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


def joined(collection: str, local: str, foreign: str, into: str) -> Document:
    """A `$lookup` stage that joins `collection`'s documents whose `foreign` field equals
    this one's `local` field, as the array `into`."""
    return {
        "$lookup": {"from": collection, "localField": local, "foreignField": foreign, "as": into}
    }
