"""What the tenant databases hold, as operators need to see it."""

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from app.db.naming import TENANT_COLLECTION_PREFIX
from app.db.store import Document, Store, TenantNamespace
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections


@dataclass(frozen=True, slots=True)
class IndexSummary:
    name: str
    keys: str
    options: str


class TenantCatalog:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._tenants = TenantCollections(store)

    async def databases(self) -> list[str]:
        """Every database tenant collections may be in: the placement pool, the default
        database, and any other the registry records."""
        recorded = await OrganizationRepository(self._store).databases_in_use()
        names = {*self._store.tenant_pool, self._store.default_tenant_db, *recorded}
        return sorted(names - {""})

    async def tenant_namespaces(self) -> set[TenantNamespace]:
        found: set[TenantNamespace] = set()
        for database in await self.databases():
            names = await self._store.tenant_database(database).list_collection_names()
            found.update(
                TenantNamespace(database, name)
                for name in names
                if name.startswith(TENANT_COLLECTION_PREFIX)
            )
        return found

    async def exists(self, namespace: TenantNamespace) -> bool:
        return await self._tenants.exists(namespace)

    async def indexes(self, namespace: TenantNamespace) -> list[IndexSummary]:
        collection = self._store.collection(namespace)
        information: MutableMapping[str, Any] = await collection.index_information()
        summaries = []
        for name, info in sorted(information.items()):
            keys = ", ".join(f"{field}: {direction}" for field, direction in info["key"])
            options = ", ".join(
                f"{option}={value}"
                for option, value in sorted(info.items())
                if option in {"unique", "sparse", "expireAfterSeconds", "partialFilterExpression"}
            )
            summaries.append(IndexSummary(name, keys, options))
        return summaries

    async def estimated_count(self, namespace: TenantNamespace) -> int:
        # From collection metadata: exact counts of every tenant would scan every collection.
        return await self._store.collection(namespace).estimated_document_count()


def namespaces_named_by(document: Document, default_database: str) -> set[TenantNamespace]:
    """Every tenant collection a registry entry uses or is moving to, with its database."""
    database = document.get("tenant_database") or default_database
    names = {document.get("tenant_collection")}
    pending = document.get("pending_rename")
    if isinstance(pending, dict):
        names.add(pending.get("tenant_collection"))
    found = {TenantNamespace(database, name) for name in names if isinstance(name, str)}
    move = document.get("pending_move")
    collection = document.get("tenant_collection")
    if isinstance(move, dict) and isinstance(collection, str):
        for end in (move.get("source"), move.get("target")):
            if isinstance(end, str):
                found.add(TenantNamespace(end or default_database, collection))
    return found
