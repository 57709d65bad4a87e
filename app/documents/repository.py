"""Every query on one organization's tenant collection."""

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument

from app.db.store import Document, Store, TenantNamespace


class TenantDocuments:
    """One collection, seen through a scope: `{}` (the whole organization) or one workspace."""

    def __init__(self, store: Store, namespace: TenantNamespace, scope: dict[str, Any]) -> None:
        self._collection = store.collection(namespace)
        self._scope = scope

    async def insert(self, bodies: list[Document], workspace_id: ObjectId) -> list[Document]:
        now = datetime.now(UTC)
        documents = [
            {
                **body,
                "_id": ObjectId(),
                "workspace_id": workspace_id,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for body in bodies
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
        offset: int,
        limit: int,
    ) -> tuple[list[Document], int]:
        query = {**where, **self._scope}
        total = await self._collection.count_documents(query)
        direction = DESCENDING if descending else ASCENDING
        cursor = (
            self._collection.find(query)
            .sort([(sort, direction), ("_id", direction)])
            .skip(offset)
            .limit(limit)
        )
        return [document async for document in cursor], total

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
