"""Every query on identifier claims (`identifier_claims`)."""

from datetime import UTC, datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.schema import IDENTIFIER_CLAIMS
from app.db.store import Document, Store


class IdentifierClaims:
    """Who owns which identifier, and therefore which tenant collection name.

    A claim is taken before a collection name is used and released only after the collection
    under it is gone or moved, so two organizations can never share a collection, even while
    a rename or delete is half done.
    """

    def __init__(self, store: Store) -> None:
        self._claims = store.master[IDENTIFIER_CLAIMS]

    async def claim(self, identifier: str, organization_id: ObjectId) -> bool:
        """Take `identifier` for the organization; False if anyone, even it, holds it already."""
        try:
            await self._claims.insert_one(
                {
                    "_id": identifier,
                    "organization_id": organization_id,
                    "claimed_at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def list_claimed_before(self, cutoff: datetime) -> list[tuple[str, ObjectId]]:
        cursor = self._claims.find({"claimed_at": {"$lte": cutoff}})
        return [(claim["_id"], claim["organization_id"]) async for claim in cursor]

    async def release(self, identifier: str, organization_id: ObjectId) -> None:
        await self._claims.delete_one({"_id": identifier, "organization_id": organization_id})

    async def all(self) -> list[Document]:
        return [document async for document in self._claims.find({})]

    async def count(self) -> int:
        return await self._claims.count_documents({})
