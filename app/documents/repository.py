"""Every query on one organization's tenant collection."""

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument

from app.db.store import Document, Store


class TenantDocuments:
    def __init__(self, store: Store, collection: str) -> None:
        self._collection = store.tenants[collection]

    async def insert(self, bodies: list[Document]) -> list[Document]:
        now = datetime.now(UTC)
        documents = [
            {**body, "_id": ObjectId(), "created_at": now, "updated_at": now, "version": 1}
            for body in bodies
        ]
        await self._collection.insert_many(documents, ordered=True)
        return documents

    async def get(self, document_id: ObjectId) -> Document | None:
        return await self._collection.find_one({"_id": document_id})

    async def page(
        self,
        where: dict[str, Any],
        sort: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[Document], int]:
        total = await self._collection.count_documents(where)
        direction = DESCENDING if descending else ASCENDING
        cursor = (
            self._collection.find(where)
            .sort([(sort, direction), ("_id", direction)])
            .skip(offset)
            .limit(limit)
        )
        return [document async for document in cursor], total

    async def replace(
        self, document_id: ObjectId, version: int, body: Document, created_at: datetime
    ) -> Document | None:
        """Replace the document if it still has `version`; None if it does not."""
        replacement = {
            **body,
            "created_at": created_at,
            "updated_at": datetime.now(UTC),
            "version": version + 1,
        }
        return await self._collection.find_one_and_replace(
            {"_id": document_id, "version": version},
            replacement,
            return_document=ReturnDocument.AFTER,
        )

    async def delete(self, document_id: ObjectId, version: int | None) -> bool:
        query: dict[str, Any] = {"_id": document_id}
        if version is not None:
            query["version"] = version
        result = await self._collection.delete_one(query)
        return result.deleted_count == 1
