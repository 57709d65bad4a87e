"""Every query on identifier claims (`identifier_claims`)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Document, Store
from app.registry.models import LifecycleState

# A date while the claim's organization may not account for it (see `IdentifierClaims`);
# false once recovery has seen that it does. Claims written before the field existed lack it
# and count as unsettled.
UNSETTLED = "unsettled_since"
# Claims settled per command: normally the few taken since the last sweep; all of them once,
# after an upgrade from a version whose claims carried no mark.
_SETTLE_BATCH = 500


@dataclass
class UnsettledClaims:
    """What recovery's sweep found among the claims unsettled before its cutoff."""

    # Claims no organization accounts for: gone, or neither its identifier nor the one it is
    # renaming to is the claim's; with the mark as read, as below.
    unaccounted: list[tuple[str, ObjectId, datetime | None]] = field(default_factory=list)
    # Claims that are their active organization's identifier, with the mark as read (a date,
    # or None where the claim has none), so that a claim marked again meanwhile stays unsettled.
    settled: list[tuple[str, datetime | None]] = field(default_factory=list)


class IdentifierClaims:
    """Who owns which identifier, and therefore which tenant collection name.

    A claim is taken before a collection name is used and released only after the collection
    under it is gone or moved, so two organizations can never share a collection, even while
    a rename or delete is half done.

    A crash between two steps can leave a claim that no organization accounts for, which
    blocks its name until recovery releases it. So that recovery never has to join every
    claim to the registry, a claim is marked *unsettled* (`unsettled_since`, indexed) from
    the moment it is taken, and again just before its organization stops accounting for it
    (a delete removes the entry, a rename switches the identifier); recovery settles it
    (false) once it has seen its active organization hold it. The sweep reads only the
    unsettled ones: the claims of operations under way or interrupted, and claims written by
    hand or by an earlier version (which lack the field), each until it is settled.
    """

    def __init__(self, store: Store) -> None:
        self._claims = store.master[IDENTIFIER_CLAIMS]

    async def claim(self, identifier: str, organization_id: ObjectId) -> bool:
        """Take `identifier` for the organization; False if anyone, even it, holds it already."""
        now = datetime.now(UTC)
        try:
            await self._claims.insert_one(
                {
                    "_id": identifier,
                    "organization_id": organization_id,
                    "claimed_at": now,
                    UNSETTLED: now,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def unsettle(self, identifier: str, organization_id: ObjectId) -> None:
        """Mark the claim unsettled again: its organization is about to stop accounting for
        it, and releases it next. Safe to repeat."""
        await self._claims.update_one(
            {"_id": identifier, "organization_id": organization_id},
            {"$set": {UNSETTLED: datetime.now(UTC)}},
        )

    async def unsettled_before(self, cutoff: datetime) -> UnsettledClaims:
        """The claims unsettled since before `cutoff`, each joined to its organization.

        One aggregation over the unsettled claims alone: the index on `unsettled_since`
        holds the settled ones under `false`, which neither the date range nor the null
        (missing) branch reads, so the sweep costs what is under way, not the registry's
        size. `$lookup` joins into the registry even when it is sharded (MongoDB 5.1 on).
        """
        cursor = await self._claims.aggregate(
            [
                {
                    "$match": {
                        "$or": [
                            # The range alone reads only dates (type bracketing); `$type`
                            # says so for stores that compare across types.
                            {UNSETTLED: {"$type": "date", "$lte": cutoff}},
                            {UNSETTLED: None},
                        ]
                    }
                },
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
                        UNSETTLED: 1,
                        # Arrays (one value per entry found); `$ifNull` for the stores
                        # that answer a path no entry has as missing, not as [].
                        "current": {"$ifNull": ["$holder.identifier", []]},
                        "renaming": {"$ifNull": ["$holder.pending_rename.identifier", []]},
                        "states": {"$ifNull": ["$holder.state", []]},
                    }
                },
            ]
        )
        found = UnsettledClaims()
        async for claim in cursor:
            identifier = claim["_id"]
            if identifier not in claim["current"] and identifier not in claim["renaming"]:
                found.unaccounted.append(
                    (identifier, claim["organization_id"], claim.get(UNSETTLED))
                )
            elif claim["states"] == [LifecycleState.ACTIVE.value] and not claim["renaming"]:
                found.settled.append((identifier, claim.get(UNSETTLED)))
        return found

    async def settle(self, claims: list[tuple[str, datetime | None]]) -> None:
        """Mark these claims settled, unless one was marked unsettled again since it was read
        (its organization began to give it up meanwhile). One command per `_SETTLE_BATCH`."""
        for start in range(0, len(claims), _SETTLE_BATCH):
            batch = claims[start : start + _SETTLE_BATCH]
            await self._claims.update_many(
                {"$or": [{"_id": identifier, UNSETTLED: since} for identifier, since in batch]},
                {"$set": {UNSETTLED: False}},
            )

    async def release(self, identifier: str, organization_id: ObjectId) -> None:
        await self._claims.delete_one({"_id": identifier, "organization_id": organization_id})

    async def all(self) -> list[Document]:
        return [document async for document in self._claims.find({})]

    async def count(self) -> int:
        """From the collection's metadata: an operator's total, not a scan."""
        return await self._claims.estimated_document_count()
