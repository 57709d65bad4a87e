"""Every query on `platform_keys`."""

from datetime import datetime

from bson import ObjectId
from pymongo import ASCENDING

from app.db.schema import PLATFORM_KEYS
from app.db.store import Store
from app.platform.models import PlatformKey


class PlatformKeyRepository:
    def __init__(self, store: Store) -> None:
        self._keys = store.master[PLATFORM_KEYS]

    async def insert(self, key: PlatformKey) -> None:
        await self._keys.insert_one(key.to_document())

    async def get(self, key_id: ObjectId) -> PlatformKey | None:
        document = await self._keys.find_one({"_id": key_id})
        return PlatformKey.from_document(document) if document else None

    async def all(self) -> list[PlatformKey]:
        """Every key, oldest first (an id is minted at creation); an operator has a few."""
        cursor = self._keys.find({}).sort("_id", ASCENDING)
        return [PlatformKey.from_document(document) async for document in cursor]

    async def revoke(self, key_id: ObjectId, at: datetime) -> bool:
        """Whether this call revoked it (False: unknown, or revoked already)."""
        result = await self._keys.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.modified_count == 1

    async def mark_used(self, key_id: ObjectId, at: datetime, unless_since: datetime) -> None:
        """Write `last_used_at` unless a request has since `unless_since`: one write a minute
        at most, whichever instance serves the key."""
        await self._keys.update_one(
            {
                "_id": key_id,
                "$or": [{"last_used_at": None}, {"last_used_at": {"$lt": unless_since}}],
            },
            {"$set": {"last_used_at": at}},
        )
