"""Every query on memberships."""

import secrets
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from app.access.roles import Role, RoleName
from app.accounts.models import Membership, membership_id
from app.db.keyset import Keyset, Kind, Slice, Window
from app.db.schema import (
    ACCOUNTS,
    MEMBERSHIPS,
    ORGANIZATIONS,
    REVOKED_TOKENS,
    ROLES,
    WORKSPACE_MEMBERS,
    WORKSPACES,
)
from app.db.store import Document, Store, joined


def fresh_version() -> int:
    """A starting version no earlier membership of the same person can have had, so tokens
    from before a removal stay dead when the person rejoins."""
    return secrets.randbits(48)


# A membership's `_id` is "<account id>:<organization id>".
MEMBERS_OLDEST_FIRST = Keyset("members", "created_at", Kind.DATETIME, id_kind=Kind.STRING)


class AlreadyMember(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Standing:
    """Everything a bearer token's check reads, as stored: the membership, its account and
    organization, whether the token was revoked, and the token's workspace with the account's
    seat in it (None where there is none)."""

    membership: Membership
    account: Document | None
    organization: Document | None
    revoked: bool
    workspace: Document | None
    seat: Document | None
    # The custom role the membership names, if it names one that exists.
    custom_role: Document | None = None


class MembershipRepository:
    def __init__(self, store: Store) -> None:
        self._memberships = store.master[MEMBERSHIPS]

    async def get(self, account_id: ObjectId, organization_id: ObjectId) -> Membership | None:
        document = await self._memberships.find_one(
            {"_id": membership_id(account_id, organization_id)}
        )
        return Membership.from_document(document) if document else None

    async def standing(
        self,
        account_id: ObjectId,
        organization_id: ObjectId,
        token_id: str,
        workspace_id: ObjectId,
        seat_id: str,
    ) -> Standing | None:
        """The membership and what a token's check needs around it, in one round trip: one
        aggregation whose every join is on the joined collection's `_id`. None when the
        membership does not exist.

        A custom role's definition (`_id` `<organization>:<slug>`) is joined too, so its
        permissions as they are now come with every check; a built-in role's name finds
        nothing there (no slug is a built-in name) and resolves from the table."""
        pipeline: list[Document] = [
            {"$match": {"_id": membership_id(account_id, organization_id)}},
            {
                "$addFields": {
                    "_token": token_id,
                    "_workspace": workspace_id,
                    "_seat": seat_id,
                    "_role_key": {"$concat": [f"{organization_id}:", "$role"]},
                }
            },
            joined(ACCOUNTS, "account_id", "_id", "_account"),
            joined(ORGANIZATIONS, "organization_id", "_id", "_organization"),
            joined(REVOKED_TOKENS, "_token", "_id", "_revoked"),
            joined(WORKSPACES, "_workspace", "_id", "_workspace_found"),
            joined(WORKSPACE_MEMBERS, "_seat", "_id", "_seat_found"),
            joined(ROLES, "_role_key", "_id", "_role_found"),
        ]
        cursor = await self._memberships.aggregate(pipeline)
        found = await cursor.to_list(1)
        if not found:
            return None
        [document] = found

        def first(name: str, key: object) -> Document | None:
            # Each join is on `_id`, so a joined document's `_id` is the key it was found by.
            found = document.get(name) or []
            return {**found[0], "_id": key} if found else None

        return Standing(
            membership=Membership.from_document(document),
            account=first("_account", account_id),
            organization=first("_organization", organization_id),
            revoked=bool(document.get("_revoked")),
            workspace=first("_workspace_found", workspace_id),
            seat=first("_seat_found", seat_id),
            custom_role=first("_role_found", document.get("_role_key")),
        )

    async def add(
        self,
        account_id: ObjectId,
        organization_id: ObjectId,
        role: RoleName,
        invited_by: ObjectId | None = None,
    ) -> Membership:
        membership = Membership(
            id=membership_id(account_id, organization_id),
            account_id=account_id,
            organization_id=organization_id,
            role=role,
            created_at=datetime.now(UTC),
            version=fresh_version(),
            invited_by=invited_by,
        )
        try:
            await self._memberships.insert_one(membership.to_document())
        except DuplicateKeyError:
            raise AlreadyMember() from None
        return membership

    async def mark_active(self, membership: Membership, now: datetime, stale: datetime) -> None:
        """Record `now` as the membership's last activity, unless another request recorded
        one since `stale` (so concurrent requests write it once)."""
        await self._memberships.update_one(
            {
                "_id": membership.id,
                "$or": [{"last_active_at": None}, {"last_active_at": {"$lt": stale}}],
            },
            {"$set": {"last_active_at": now}},
        )

    async def ensure(self, account_id: ObjectId, organization_id: ObjectId, role: RoleName) -> None:
        """Add the membership unless it exists (whatever its role): safe to repeat."""
        now = datetime.now(UTC)
        await self._memberships.update_one(
            {"_id": membership_id(account_id, organization_id)},
            {
                "$setOnInsert": {
                    "account_id": account_id,
                    "organization_id": organization_id,
                    "role": role,
                    "created_at": now,
                    "version": 0,
                }
            },
            upsert=True,
        )

    async def for_account(self, account_id: ObjectId) -> list[Membership]:
        """Oldest first (`created_at`, then `_id`)."""
        # Every membership of the account sorts between "<account>:" and "<account>;".
        # The `_id` index finds them; an account has a handful, put in order here.
        prefix = f"{account_id}:"
        cursor = self._memberships.find({"_id": {"$gte": prefix, "$lt": f"{account_id};"}})
        found = [Membership.from_document(document) async for document in cursor]
        return sorted(found, key=lambda membership: (membership.created_at, membership.id))

    async def page_for_organization(
        self, organization_id: ObjectId, role: RoleName | None, window: Window
    ) -> Slice[Membership]:
        query: dict[str, object] = {"organization_id": organization_id}
        if role is not None:
            query["role"] = role
        reading = MEMBERS_OLDEST_FIRST.read(window, organization=organization_id, role=role)
        page = await reading.page(self._memberships, query)
        return page.with_items([Membership.from_document(document) for document in page.items])

    async def count_for_organization(
        self, organization_id: ObjectId, role: RoleName | None = None
    ) -> int:
        query: dict[str, object] = {"organization_id": organization_id}
        if role is not None:
            query["role"] = role
        return await self._memberships.count_documents(query)

    async def count_with_role(self, organization_id: ObjectId, role: RoleName) -> int:
        """The members holding `role` (a custom role's holders, before it is deleted)."""
        return await self.count_for_organization(organization_id, role)

    async def replace_role(
        self, organization_id: ObjectId, role: RoleName, replacement: RoleName
    ) -> int:
        """Give every member holding `role` the role `replacement` instead; their tokens
        stop working, as with any role change. How many moved."""
        result = await self._memberships.update_many(
            {"organization_id": organization_id, "role": role},
            {"$set": {"role": replacement}, "$inc": {"version": 1}},
        )
        return result.modified_count

    async def change_role(self, membership: Membership, role: RoleName) -> bool:
        """Set a new role if the membership still has the one it was read with."""
        result = await self._memberships.update_one(
            {"_id": membership.id, "role": membership.role},
            {"$set": {"role": role}, "$inc": {"version": 1}},
        )
        return result.modified_count == 1

    async def remove(self, membership: Membership) -> bool:
        result = await self._memberships.delete_one({"_id": membership.id, "role": membership.role})
        return result.deleted_count == 1

    async def remove_account_from(self, account_id: ObjectId, organization_id: ObjectId) -> None:
        await self._memberships.delete_one({"_id": membership_id(account_id, organization_id)})

    async def remove_all_of_organization(self, organization_id: ObjectId) -> None:
        await self._memberships.delete_many({"organization_id": organization_id})

    async def another_owner(self, organization_id: ObjectId, besides: ObjectId) -> ObjectId | None:
        cursor = self._memberships.find(
            {
                "organization_id": organization_id,
                "role": Role.OWNER.value,
                "account_id": {"$ne": besides},
            },
            {"account_id": 1},
        ).limit(1)
        async for document in cursor:
            owner: ObjectId = document["account_id"]
            return owner
        return None

    async def has_any(self, account_id: ObjectId) -> bool:
        prefix = f"{account_id}:"
        found = await self._memberships.find_one(
            {"_id": {"$gte": prefix, "$lt": f"{account_id};"}}, {"_id": 1}
        )
        return found is not None

    async def of_organization(self, organization_id: ObjectId) -> list[Membership]:
        cursor = self._memberships.find({"organization_id": organization_id})
        return [Membership.from_document(document) async for document in cursor]

    async def owner_ids(self, organization_id: ObjectId) -> list[ObjectId]:
        cursor = self._memberships.find(
            {"organization_id": organization_id, "role": Role.OWNER.value}, {"account_id": 1}
        )
        return [document["account_id"] async for document in cursor]

    async def counts_by_organization(
        self, organization_ids: list[ObjectId] | None = None, role: RoleName | None = None
    ) -> dict[ObjectId, int]:
        """Memberships (with `role`, if given) per organization."""
        match: dict[str, Any] = {}
        if organization_ids is not None:
            match["organization_id"] = {"$in": organization_ids}
        if role is not None:
            match["role"] = role
        cursor = await self._memberships.aggregate(
            [{"$match": match}, {"$group": {"_id": "$organization_id", "count": {"$sum": 1}}}]
        )
        return {group["_id"]: group["count"] async for group in cursor}

    async def account_ids_in_order(self) -> AsyncGenerator[str]:
        """The account part of every membership `_id`, in `_id` order: hex order is ObjectId
        order, so this stream merges with the accounts' own in one pass."""
        cursor = self._memberships.find({}, {"_id": 1}).sort("_id", ASCENDING)
        try:
            async for document in cursor:
                yield str(document["_id"]).split(":", 1)[0]
        finally:
            await cursor.close()

    async def count(self) -> int:
        """From the collection's metadata: an operator's total, not a scan."""
        return await self._memberships.estimated_document_count()
