"""What the tenant database holds, as operators need to see it."""

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from app.db.naming import TENANT_COLLECTION_PREFIX
from app.db.store import Store


@dataclass(frozen=True, slots=True)
class IndexSummary:
    name: str
    keys: str
    options: str


class TenantCatalog:
    def __init__(self, store: Store) -> None:
        self._database = store.tenants

    async def tenant_collection_names(self) -> set[str]:
        names = await self._database.list_collection_names()
        return {name for name in names if name.startswith(TENANT_COLLECTION_PREFIX)}

    async def exists(self, collection: str) -> bool:
        # Lists every name rather than filtering on the server: the in-memory store's filtered
        # listing also returns collections that were dropped or merely referenced.
        return collection in await self._database.list_collection_names()

    async def indexes(self, collection: str) -> list[IndexSummary]:
        information: MutableMapping[str, Any] = await self._database[collection].index_information()
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

    async def estimated_count(self, collection: str) -> int:
        # From collection metadata: exact counts of every tenant would scan every collection.
        return await self._database[collection].estimated_document_count()
