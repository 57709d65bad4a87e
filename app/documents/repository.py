"""Every query on one organization's tenant collection."""

import json
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from app.db.keyset import (
    CURSOR_LOCATION,
    Keyset,
    Kind,
    Slice,
    Total,
    Window,
    bounded_count,
)
from app.db.store import Document, Store, TenantNamespace
from app.errors import InvalidInput

# The one sort field cursors follow: set once when a document is stored and never changed.
CURSOR_SORT = "created_at"
CURSOR_SORT_ONLY = "cursor works with sort=created_at only; page other sorts with offset"


class TenantDocuments:
    """One collection, seen through a scope: `{}` (the whole organization) or one workspace."""

    def __init__(self, store: Store, namespace: TenantNamespace, scope: dict[str, Any]) -> None:
        self._collection = store.collection(namespace)
        self._scope = scope

    async def insert(
        self, bodies: list[Document], workspace_id: ObjectId, ids: list[ObjectId] | None = None
    ) -> list[Document]:
        """Store new documents, with `ids` when given (one per body), else new ones."""
        now = datetime.now(UTC)
        chosen = ids or [ObjectId() for _ in bodies]
        documents = [
            {
                **body,
                "_id": chosen[index],
                "workspace_id": workspace_id,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for index, body in enumerate(bodies)
        ]
        await self._collection.insert_many(documents, ordered=True)
        return documents

    async def get(self, document_id: ObjectId) -> Document | None:
        return await self._collection.find_one({**self._scope, "_id": document_id})

    async def page(
        self,
        where: dict[str, Any],
        sort: str,
        descending: bool,
        window: Window,
        organization_id: ObjectId,
    ) -> Slice[Document]:
        """A page in `sort` order, then `_id`. Cursors continue a walk in the order of
        `CURSOR_SORT` only: the other fields' values can change, be missing or mix types."""
        query = {**where, **self._scope}
        # Documents from elsewhere (an import, an older version) may lack `created_at`.
        keyset = Keyset("documents", sort, Kind.DATETIME, descending=descending, nullable=True)
        if sort != CURSOR_SORT and window.cursor is not None:
            raise InvalidInput(CURSOR_LOCATION, CURSOR_SORT_ONLY)
        reading = keyset.read(
            window,
            organization=organization_id,
            workspace=self._scope.get("workspace_id"),
            where=json.dumps(where, sort_keys=True, default=str),
        )
        total = await self._total(query)
        cursor = (
            self._collection.find(reading.query(query))
            .sort(keyset.sort)
            .skip(reading.skip)
            .limit(reading.fetch)
        )
        fetched = await cursor.to_list()
        if sort != CURSOR_SORT:
            return Slice(fetched[: window.limit], total.count, None, total.capped)
        return reading.cut_documents(fetched, total)

    async def _total(self, query: dict[str, Any]) -> Total:
        """The whole collection's size from its metadata when nothing narrows the list (the
        collection is the organization's alone); else a count that stops at the cap."""
        if not query:
            return Total.of(await self._collection.estimated_document_count())
        return await bounded_count(self._collection, query)

    async def replace(self, current: Document, body: Document) -> Document | None:
        """Replace the document if it still has the version it was read with; None if not.
        It stays in its workspace."""
        version: int = current["version"]
        replacement = {
            **body,
            "workspace_id": current.get("workspace_id"),
            "created_at": current["created_at"],
            "updated_at": datetime.now(UTC),
            "version": version + 1,
        }
        return await self._collection.find_one_and_replace(
            {"_id": current["_id"], "version": version},
            replacement,
            return_document=ReturnDocument.AFTER,
        )

    async def delete(self, document_id: ObjectId, version: int | None) -> bool:
        query: dict[str, Any] = {"_id": document_id}
        if version is not None:
            query["version"] = version
        result = await self._collection.delete_one(query)
        return result.deleted_count == 1
