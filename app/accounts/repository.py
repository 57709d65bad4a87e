"""Every query on the accounts collection."""

from collections.abc import AsyncIterator

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.accounts.models import Account, email_key
from app.db.schema import ACCOUNTS
from app.db.store import Store


class EmailTaken(Exception):
    pass


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

    async def find_by_email(self, email: str) -> Account | None:
        document = await self._accounts.find_one({"email_key": email_key(email)})
        return Account.from_document(document) if document else None

    async def insert(self, account: Account) -> None:
        try:
            await self._accounts.insert_one(account.to_document())
        except DuplicateKeyError:
            raise EmailTaken() from None

    async def bump_token_version(self, account_id: ObjectId) -> None:
        await self._accounts.update_one({"_id": account_id}, {"$inc": {"token_version": 1}})

    async def set_password(self, account_id: ObjectId, password_hash: str) -> None:
        """Store a new password hash; every token issued before stops working."""
        await self._accounts.update_one(
            {"_id": account_id},
            {"$set": {"password_hash": password_hash}, "$inc": {"token_version": 1}},
        )

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
