"""Every query on the organization registry and on identifier claims."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Store
from app.errors import ServiceUnavailable
from app.organizations.errors import OrganizationSuspended
from app.organizations.models import (
    LifecycleState,
    Organization,
    PendingMove,
    PendingRename,
    Status,
)

HOLD_SECONDS = 10

# States in which an organization is visible to clients; PROVISIONING and DELETING are not.
VISIBLE_STATES = [
    LifecycleState.ACTIVE.value,
    LifecycleState.RENAMING.value,
    LifecycleState.MOVING.value,
]


class DuplicateOrganization(Exception):
    pass


class OrganizationRepository:
    def __init__(self, store: Store) -> None:
        self._organizations = store.master[ORGANIZATIONS]

    async def get(self, organization_id: ObjectId) -> Organization | None:
        document = await self._organizations.find_one({"_id": organization_id})
        return Organization.from_document(document) if document else None

    async def get_visible(self, organization_id: ObjectId) -> Organization | None:
        document = await self._organizations.find_one(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}}
        )
        return Organization.from_document(document) if document else None

    async def is_visible(self, organization_id: ObjectId) -> bool:
        document = await self._organizations.find_one(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}}, {"_id": 1}
        )
        return document is not None

    async def find_visible_by_name_key(self, key: str) -> Organization | None:
        # An exact match on the stored key: user input never becomes a pattern.
        document = await self._organizations.find_one(
            {"name_key": key, "state": {"$in": VISIBLE_STATES}}
        )
        return Organization.from_document(document) if document else None

    async def count_by_state(self) -> dict[str, int]:
        """Every lifecycle state with its count, zeros included."""
        # One indexed count per state rather than a $group over the whole registry.
        return {
            state.value: await self._organizations.count_documents({"state": state.value})
            for state in LifecycleState
        }

    async def insert(self, organization: Organization) -> None:
        try:
            await self._organizations.insert_one(organization.to_document())
        except DuplicateKeyError:
            raise DuplicateOrganization() from None

    async def set_state(
        self, organization_id: ObjectId, expected: LifecycleState, new: LifecycleState
    ) -> bool:
        result = await self._organizations.update_one(
            {"_id": organization_id, "state": expected.value},
            {"$set": {"state": new.value, "modified_at": datetime.now(UTC)}},
        )
        return result.modified_count == 1

    async def begin_rename(self, current: Organization, target: PendingRename) -> bool:
        """Record the rename about to happen.

        False unless the organization is ACTIVE and still where `current` says: a caller that
        read it before another rename finished must not move a collection that has moved.
        """
        result = await self._organizations.update_one(
            {
                "_id": current.id,
                "state": LifecycleState.ACTIVE.value,
                "tenant_collection": current.tenant_collection,
            },
            {
                "$set": {
                    "state": LifecycleState.RENAMING.value,
                    "pending_rename": asdict(target),
                    "modified_at": datetime.now(UTC),
                }
            },
        )
        return result.modified_count == 1

    async def complete_rename(self, organization_id: ObjectId, target: PendingRename) -> None:
        try:
            await self._organizations.update_one(
                {"_id": organization_id, "state": LifecycleState.RENAMING.value},
                {
                    "$set": {
                        "name": target.name,
                        "name_key": target.name_key,
                        "identifier": target.identifier,
                        "tenant_collection": target.tenant_collection,
                        "state": LifecycleState.ACTIVE.value,
                        "modified_at": datetime.now(UTC),
                    },
                    "$unset": {"pending_rename": ""},
                },
            )
        except DuplicateKeyError:
            raise DuplicateOrganization() from None

    async def mark_copying(self, organization_id: ObjectId) -> None:
        await self._organizations.update_one(
            {"_id": organization_id, "state": LifecycleState.RENAMING.value},
            {"$set": {"pending_rename.copying": True, "modified_at": datetime.now(UTC)}},
        )

    async def touch(self, organization_id: ObjectId) -> None:
        """Show that a long operation is still making progress (see `list_unsettled`)."""
        await self._organizations.update_one(
            {"_id": organization_id}, {"$set": {"modified_at": datetime.now(UTC)}}
        )

    async def list_unsettled(
        self, untouched_since: datetime
    ) -> list[tuple[ObjectId, Organization | None]]:
        """Organizations in the middle of an operation that has made no progress lately.

        An entry too damaged to read comes back as None beside its id.
        """
        cursor = self._organizations.find(
            {
                "state": {"$ne": LifecycleState.ACTIVE.value},
                "modified_at": {"$lte": untouched_since},
            }
        )
        found: list[tuple[ObjectId, Organization | None]] = []
        async for document in cursor:
            try:
                found.append((document["_id"], Organization.from_document(document)))
            except (KeyError, TypeError, ValueError):
                found.append((document["_id"], None))
        return found

    async def begin_move(self, current: Organization, target_database: str) -> bool:
        """Record a move of the tenant collection to `target_database`; False unless the
        organization is ACTIVE and still in the database `current` says."""
        move = PendingMove(source=current.tenant_database, target=target_database)
        result = await self._organizations.update_one(
            {
                "_id": current.id,
                "state": LifecycleState.ACTIVE.value,
                "tenant_collection": current.tenant_collection,
                **_in_database(current.tenant_database),
            },
            {
                "$set": {
                    "state": LifecycleState.MOVING.value,
                    "pending_move": asdict(move),
                    "modified_at": datetime.now(UTC),
                }
            },
        )
        return result.modified_count == 1

    async def mark_move_copying(self, organization_id: ObjectId) -> None:
        await self._organizations.update_one(
            {"_id": organization_id, "state": LifecycleState.MOVING.value},
            {"$set": {"pending_move.copying": True, "modified_at": datetime.now(UTC)}},
        )

    async def switch_database(self, organization_id: ObjectId, move: PendingMove) -> None:
        """Point the registry at the copy; the move stays recorded until the source is gone."""
        await self._organizations.update_one(
            {
                "_id": organization_id,
                "state": LifecycleState.MOVING.value,
                **_in_database(move.source),
            },
            {"$set": {"tenant_database": move.target, "modified_at": datetime.now(UTC)}},
        )

    async def end_move(self, organization_id: ObjectId) -> None:
        """Back to ACTIVE, wherever the registry now points (finished or rolled back)."""
        await self._organizations.update_one(
            {"_id": organization_id, "state": LifecycleState.MOVING.value},
            {
                "$set": {"state": LifecycleState.ACTIVE.value, "modified_at": datetime.now(UTC)},
                "$unset": {"pending_move": ""},
            },
        )

    async def collections_per_database(self) -> dict[str, int]:
        """How many tenant collections the registry places in each database ("" = default)."""
        cursor = await self._organizations.aggregate(
            [{"$group": {"_id": {"$ifNull": ["$tenant_database", ""]}, "count": {"$sum": 1}}}]
        )
        return {str(row["_id"]): int(row["count"]) async for row in cursor}

    async def in_database(self, database: str, *, limit: int = 0) -> list[Organization]:
        """Organizations whose collection the registry places in `database`, oldest first."""
        cursor = self._organizations.find(_in_database(database)).sort("_id", 1).limit(limit)
        return [Organization.from_document(document) async for document in cursor]

    async def record_default_database(self, database: str) -> int:
        """Write the default database into entries from before placement; safe to repeat."""
        result = await self._organizations.update_many(
            {"tenant_database": {"$exists": False}}, {"$set": {"tenant_database": database}}
        )
        return result.modified_count

    async def abandon_rename(self, organization_id: ObjectId) -> None:
        await self._organizations.update_one(
            {"_id": organization_id, "state": LifecycleState.RENAMING.value},
            {
                "$set": {"state": LifecycleState.ACTIVE.value},
                "$unset": {"pending_rename": ""},
            },
        )

    async def rewrite_name(self, current: Organization, name: str, key: str) -> bool:
        """Change how the name is written when its identifier stays; False if it changed since."""
        try:
            result = await self._organizations.update_one(
                {
                    "_id": current.id,
                    "state": LifecycleState.ACTIVE.value,
                    "identifier": current.identifier,
                },
                {"$set": {"name": name, "name_key": key, "modified_at": datetime.now(UTC)}},
            )
        except DuplicateKeyError:
            raise DuplicateOrganization() from None
        return result.matched_count == 1

    async def delete(self, organization_id: ObjectId) -> None:
        await self._organizations.delete_one({"_id": organization_id})

    async def list_visible(self, organization_ids: list[ObjectId]) -> list[Organization]:
        cursor = self._organizations.find(
            {"_id": {"$in": organization_ids}, "state": {"$in": VISIBLE_STATES}}
        )
        return [Organization.from_document(document) async for document in cursor]

    async def profile_of(self, organization_id: ObjectId) -> dict[str, Any]:
        document = await self._organizations.find_one({"_id": organization_id}, {"profile": 1})
        profile: dict[str, Any] = (document or {}).get("profile") or {}
        return profile

    async def update_profile(self, organization_id: ObjectId, changes: dict[str, Any]) -> None:
        """Set the given profile fields; a None value removes the field."""
        to_set = {f"profile.{k}": v for k, v in changes.items() if v is not None}
        to_unset = {f"profile.{k}": "" for k, v in changes.items() if v is None}
        update: dict[str, Any] = {"$set": {**to_set, "modified_at": datetime.now(UTC)}}
        if to_unset:
            update["$unset"] = to_unset
        await self._organizations.update_one({"_id": organization_id}, update)

    @asynccontextmanager
    async def holding(
        self, organization_id: ObjectId, purpose: str, *, wait_seconds: float = 5
    ) -> AsyncIterator[None]:
        """A short mutual exclusion per organization and purpose, shared by every instance:
        a lease field on the registry entry, taken by conditional update and expiring by
        itself (after HOLD_SECONDS) if its holder dies."""
        field = f"holds.{purpose}"
        deadline = time.monotonic() + wait_seconds
        while True:
            now = datetime.now(UTC)
            taken = await self._organizations.update_one(
                {
                    "_id": organization_id,
                    "$or": [{field: {"$exists": False}}, {field: {"$lte": now}}],
                },
                {"$set": {field: now + timedelta(seconds=HOLD_SECONDS)}},
            )
            if taken.modified_count == 1:
                break
            if time.monotonic() >= deadline:
                raise ServiceUnavailable("The organization is busy; try again shortly")
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            await self._organizations.update_one({"_id": organization_id}, {"$unset": {field: ""}})

    async def plan_of(self, organization_id: ObjectId) -> str | None:
        """The organization's plan, or None when it has never chosen one (the default)."""
        document = await self._organizations.find_one({"_id": organization_id}, {"plan": 1})
        plan = (document or {}).get("plan")
        return plan if isinstance(plan, str) else None

    async def uses_collection(self, tenant_collection: str) -> bool:
        """Whether any organization holds, or is moving to, this tenant collection."""
        document = await self._organizations.find_one(
            {
                "$or": [
                    {"tenant_collection": tenant_collection},
                    {"pending_rename.tenant_collection": tenant_collection},
                ]
            },
            {"_id": 1},
        )
        return document is not None

    async def is_suspended(self, organization_id: ObjectId) -> bool:
        document = await self._organizations.find_one(
            {"_id": organization_id, "status": Status.SUSPENDED.value}, {"_id": 1}
        )
        return document is not None

    async def require_writable(self, organization_id: ObjectId) -> None:
        """Raise OrganizationSuspended while the organization is suspended."""
        if await self.is_suspended(organization_id):
            raise OrganizationSuspended()

    async def set_status(self, organization_id: ObjectId, status: Status) -> bool:
        result = await self._organizations.update_one(
            {"_id": organization_id, "status": {"$ne": status.value}},
            {"$set": {"status": status.value, "modified_at": datetime.now(UTC)}},
        )
        return result.modified_count == 1

    async def give_up_owner_seat(self, organization_id: ObjectId) -> bool:
        """Take one owner off the count unless that would leave none; False if it would."""
        result = await self._organizations.update_one(
            {"_id": organization_id, "owner_count": {"$gt": 1}}, {"$inc": {"owner_count": -1}}
        )
        return result.modified_count == 1

    async def add_owner_seat(self, organization_id: ObjectId) -> None:
        await self._organizations.update_one({"_id": organization_id}, {"$inc": {"owner_count": 1}})

    async def set_admin(self, organization_id: ObjectId, account_id: ObjectId) -> None:
        """Point the organization's contract-level admin (`admin_email`) at another owner."""
        await self._organizations.update_one(
            {"_id": organization_id}, {"$set": {"admin_id": account_id}}
        )

    async def without_owner_count(self) -> list[ObjectId]:
        cursor = self._organizations.find({"owner_count": {"$exists": False}}, {"_id": 1})
        return [document["_id"] async for document in cursor]

    async def set_owner_count(self, organization_id: ObjectId, count: int) -> None:
        await self._organizations.update_one(
            {"_id": organization_id, "owner_count": {"$exists": False}},
            {"$set": {"owner_count": count}},
        )


def _in_database(database: str) -> dict[str, Any]:
    """The registry filter for "placed in `database`"; "" matches entries without one."""
    if database:
        return {"tenant_database": database}
    return {"tenant_database": {"$in": ["", None]}}


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
