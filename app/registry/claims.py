"""Every query on identifier claims (`identifier_claims`)."""

from datetime import UTC, datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
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

    async def unaccounted_before(self, cutoff: datetime) -> list[tuple[str, ObjectId]]:
        """Claims taken before `cutoff` that their organization does not account for: it is
        gone, or neither its identifier nor the one it is renaming to is the claim's.

        One aggregation rather than a read of each claim's organization: the server joins
        each claim to its entry by `_id` and answers only the claims left over, which are
        few (an interrupted operation leaves one). `$lookup` joins into the registry even
        when it is sharded (MongoDB 5.1 on).
        """
        cursor = await self._claims.aggregate(
            [
                {"$match": {"claimed_at": {"$lte": cutoff}}},
                {
                    "$lookup": {
                        "from": ORGANIZATIONS,
                        "localField": "organization_id",
                        "foreignField": "_id",
                        "as": "holder",
                    }
                },
                {
                    "$project": {
                        "organization_id": 1,
                        # Arrays (one value per entry found); `$ifNull` for the stores
                        # that answer a path no entry has as missing, not as [].
                        "current": {"$ifNull": ["$holder.identifier", []]},
                        "renaming": {"$ifNull": ["$holder.pending_rename.identifier", []]},
                    }
                },
                {
                    "$match": {
                        "$expr": {
                            "$and": [
                                {"$eq": [{"$in": ["$_id", "$current"]}, False]},
                                {"$eq": [{"$in": ["$_id", "$renaming"]}, False]},
                            ]
                        }
                    }
                },
            ]
        )
        return [(claim["_id"], claim["organization_id"]) async for claim in cursor]

    async def release(self, identifier: str, organization_id: ObjectId) -> None:
        await self._claims.delete_one({"_id": identifier, "organization_id": organization_id})

    async def all(self) -> list[Document]:
        return [document async for document in self._claims.find({})]

    async def count(self) -> int:
        """From the collection's metadata: an operator's total, not a scan."""
        return await self._claims.estimated_document_count()
