"""Every query on the accounts collection."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.accounts.models import Account, Membership, email_key, membership_id
from app.db.schema import ACCOUNTS, MEMBERSHIPS, ORGANIZATIONS, TRUSTED_ADDRESSES
from app.db.store import Document, Store, joined

# The organizations an account created while signed in, counted against a limit.
FOUNDED = "founded_organizations"


class EmailTaken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class SigningIn:
    """An account with what a login needs around it: its memberships, oldest first, each
    with its organization's registry entry as stored (None if it has none), and the record
    that trusts the address it logs in from (None if there is none)."""

    account: Account
    memberships: list[tuple[Membership, Document | None]]
    trust: Document | None


class AccountRepository:
    def __init__(self, store: Store) -> None:
        self._accounts = store.master[ACCOUNTS]

    async def get(self, account_id: ObjectId) -> Account | None:
        document = await self._accounts.find_one({"_id": account_id})
        return Account.from_document(document) if document else None

    async def email_of(self, account_id: ObjectId) -> str | None:
        document = await self._accounts.find_one({"_id": account_id}, {"email": 1})
        return document["email"] if document else None

    async def emails_of(self, account_ids: list[ObjectId]) -> dict[ObjectId, str]:
        cursor = self._accounts.find({"_id": {"$in": account_ids}}, {"email": 1})
        return {document["_id"]: document["email"] async for document in cursor}

    async def signing_in(self, email: str, trust_key: str) -> SigningIn | None:
        """The account with `email` and everything its login reads, in one aggregation: one
        row per membership (`$unwind`), each joined to its organization by `_id`."""
        pipeline: list[Document] = [
            {"$match": {"email_key": email_key(email)}},
            {"$limit": 1},
            {"$addFields": {"_trust_key": trust_key}},
            joined(TRUSTED_ADDRESSES, "_trust_key", "_id", "_trust"),
            joined(MEMBERSHIPS, "_id", "account_id", "_membership"),
            {"$unwind": {"path": "$_membership", "preserveNullAndEmptyArrays": True}},
            joined(ORGANIZATIONS, "_membership.organization_id", "_id", "_organization"),
        ]
        cursor = await self._accounts.aggregate(pipeline)
        rows = await cursor.to_list()
        if not rows:
            return None
        memberships: list[tuple[Membership, Document | None]] = []
        for row in rows:
            member = row.get("_membership")
            if not member:
                continue
            membership = Membership.from_document(
                {**member, "_id": membership_id(member["account_id"], member["organization_id"])}
            )
            [organization] = row.get("_organization") or [None]
            memberships.append((membership, organization))
        memberships.sort(key=lambda pair: (pair[0].created_at, pair[0].id))
        [trust] = rows[0].get("_trust") or [None]
        return SigningIn(Account.from_document(rows[0]), memberships, trust)

    async def find_by_email(self, email: str) -> Account | None:
        document = await self._accounts.find_one({"email_key": email_key(email)})
        return Account.from_document(document) if document else None

    async def insert(self, account: Account) -> None:
        try:
            await self._accounts.insert_one(account.to_document())
        except DuplicateKeyError:
            raise EmailTaken() from None

    async def reserve_founding(
        self, account_id: ObjectId, organization_id: ObjectId, limit: int
    ) -> bool:
        """Record that the account is creating `organization_id`, if it has fewer than `limit`
        recorded (`founded_organizations`): one conditional write, so concurrent creates by
        the account never record more than `limit`."""
        result = await self._accounts.update_one(
            {"_id": account_id, f"{FOUNDED}.{limit - 1}": {"$exists": False}},
            {"$push": {FOUNDED: organization_id}},
        )
        return result.modified_count == 1

    async def founded(self, account_id: ObjectId) -> list[ObjectId]:
        document = await self._accounts.find_one({"_id": account_id}, {FOUNDED: 1})
        return list(document.get(FOUNDED, [])) if document else []

    async def forget_founded(self, account_id: ObjectId, organization_ids: list[ObjectId]) -> None:
        """Give back the places of organizations that were not created or are gone."""
        await self._accounts.update_one(
            {"_id": account_id}, {"$pull": {FOUNDED: {"$in": organization_ids}}}
        )

    async def bump_token_version(self, account_id: ObjectId) -> None:
        await self._accounts.update_one({"_id": account_id}, {"$inc": {"token_version": 1}})

    async def set_password(self, account_id: ObjectId, password_hash: str) -> None:
        """Store a new password hash; every token issued before stops working."""
        await self._accounts.update_one(
            {"_id": account_id},
            {"$set": {"password_hash": password_hash}, "$inc": {"token_version": 1}},
        )

    async def mark_email_verified(self, account_id: ObjectId, email: str, at: datetime) -> bool:
        """Record that the account proved it receives mail at `email`, if that is still its
        address and it was not verified before; whether this write verified it."""
        result = await self._accounts.update_one(
            {"_id": account_id, "email_key": email_key(email), "email_verified_at": None},
            {"$set": {"email_verified_at": at}},
        )
        return result.modified_count == 1

    async def mark_unverified_where_unknown(self) -> int:
        """Give accounts from before email verification an explicit `email_verified_at: null`
        (a missing field reads as unverified too); how many were changed."""
        result = await self._accounts.update_many(
            {"email_verified_at": {"$exists": False}}, {"$set": {"email_verified_at": None}}
        )
        return result.modified_count

    async def set_home(self, account_id: ObjectId, organization_id: ObjectId) -> None:
        await self._accounts.update_one(
            {"_id": account_id}, {"$set": {"organization_id": organization_id}}
        )

    async def delete(self, account_id: ObjectId) -> None:
        await self._accounts.delete_one({"_id": account_id})

    async def homed_in(self, organization_id: ObjectId) -> list[ObjectId]:
        """Accounts whose home is the organization."""
        cursor = self._accounts.find({"organization_id": organization_id}, {"_id": 1})
        return [document["_id"] async for document in cursor]

    async def legacy_roles(self) -> list[tuple[ObjectId, ObjectId, str]]:
        """(account, organization, role) of accounts from before memberships existed."""
        cursor = self._accounts.find({"role": {"$exists": True}}, {"organization_id": 1, "role": 1})
        return [(d["_id"], d["organization_id"], d["role"]) async for d in cursor]

    async def forget_legacy_role(self, account_id: ObjectId) -> None:
        await self._accounts.update_one({"_id": account_id}, {"$unset": {"role": ""}})

    async def emails_in_order(self) -> AsyncIterator[tuple[ObjectId, str]]:
        """Every account's id and email, in id order."""
        cursor = self._accounts.find({}, {"email": 1}).sort("_id", ASCENDING)
        async for document in cursor:
            yield document["_id"], str(document.get("email", "?"))

    async def count(self) -> int:
        """From the collection's metadata: an operator's total, not a scan."""
        return await self._accounts.estimated_document_count()
