"""Every query on the organization registry (`organizations`).

The one module that touches the collection, for the service, the lifecycle, billing,
migrations and operators alike; that is why it is longer than most: a second module on
the same collection is how twin queries with diverging meanings came about before.
"""

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from app.db.ids import parse_object_id
from app.db.keyset import Keyset, Kind, Slice, Window, bounded_count
from app.db.naming import name_key
from app.db.retry import again
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store, TenantNamespace
from app.plans import Plan
from app.registry.errors import OrganizationBusy, OrganizationSuspended
from app.registry.models import (
    SETTLED,
    VISIBLE,
    LifecycleState,
    Organization,
    PendingMove,
    PendingRename,
    Status,
    Trash,
)

HOLD_SECONDS = 10
# `plan` sits at the top of the entry, the other billing fields in its `billing` subdocument.
# (`_id` stays in: mongomock's find_one_and_update answers None when it is projected out.)
_BILLING_FIELDS = {"plan": 1, "billing": 1}

VISIBLE_STATES = sorted(state.value for state in VISIBLE)
SETTLED_STATES = sorted(state.value for state in SETTLED)


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

    async def namespace_of(self, organization_id: ObjectId) -> TenantNamespace | None:
        """Where the entry's collection is, read from those two fields alone (so an entry
        damaged elsewhere still answers)."""
        document = await self._organizations.find_one(
            {"_id": organization_id}, {"tenant_collection": 1, "tenant_database": 1}
        )
        if document is None:
            return None
        return TenantNamespace(document.get("tenant_database", ""), document["tenant_collection"])

    async def settled_namespaces(self) -> list[TenantNamespace]:
        """Where each organization with no operation under way keeps its collection, read from
        those fields alone (so a damaged entry is passed over, not fatal)."""
        cursor = self._organizations.find(
            {
                "state": LifecycleState.ACTIVE.value,
                "pending_rename": {"$exists": False},
                "pending_move": {"$exists": False},
                "tenant_collection": {"$type": "string"},
            },
            {"tenant_collection": 1, "tenant_database": 1},
        )
        return [
            TenantNamespace(document.get("tenant_database") or "", document["tenant_collection"])
            async for document in cursor
        ]

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
        return await self._while_in(expected, organization_id, {"state": new.value})

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
        renamed = {
            "name": target.name,
            "name_key": target.name_key,
            "identifier": target.identifier,
            "tenant_collection": target.tenant_collection,
            "state": LifecycleState.ACTIVE.value,
        }
        try:
            await self._while_in(
                LifecycleState.RENAMING, organization_id, renamed, unset="pending_rename"
            )
        except DuplicateKeyError:
            raise DuplicateOrganization() from None

    async def mark_copying(self, organization_id: ObjectId) -> None:
        await self._while_in(
            LifecycleState.RENAMING, organization_id, {"pending_rename.copying": True}
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
                "state": {"$nin": SETTLED_STATES},
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

    async def begin_trash(self, current: Organization, trash: Trash) -> bool:
        """Record a soft delete about to move the collection into the trash; False unless
        the organization is ACTIVE and its collection still where `current` says."""
        result = await self._organizations.update_one(
            {
                "_id": current.id,
                "state": LifecycleState.ACTIVE.value,
                "tenant_collection": current.tenant_collection,
                **_in_database(current.tenant_database),
            },
            {
                "$set": {
                    "state": LifecycleState.TRASHING.value,
                    "trash": asdict(trash),
                    "modified_at": datetime.now(UTC),
                }
            },
        )
        return result.modified_count == 1

    async def leave_trash(self, organization_id: ObjectId, state: LifecycleState) -> None:
        """Back to ACTIVE from `state` (TRASHING undone, RESTORING finished), out of the trash."""
        await self._while_in(
            state, organization_id, {"state": LifecycleState.ACTIVE.value}, unset="trash"
        )

    async def begin_purge(self, organization_id: ObjectId, due_by: datetime | None) -> bool:
        """DELETED to DELETING, the one step that claims a purge: of two sweepers (or a sweep
        and a restore) exactly one changes the state. With `due_by`, only if the retention
        period ended by then."""
        where: Document = {"_id": organization_id, "state": LifecycleState.DELETED.value}
        if due_by is not None:
            where["trash.purge_after"] = {"$lte": due_by}
        result = await self._organizations.update_one(
            where,
            {"$set": {"state": LifecycleState.DELETING.value, "modified_at": datetime.now(UTC)}},
        )
        return result.modified_count == 1

    async def due_purges(self, now: datetime, limit: int) -> list[Organization]:
        """Deleted organizations whose retention period has ended, the longest due first."""
        cursor = (
            self._organizations.find(
                {"state": LifecycleState.DELETED.value, "trash.purge_after": {"$lte": now}}
            )
            .sort("trash.purge_after", ASCENDING)
            .limit(limit)
        )
        return [Organization.from_document(document) async for document in cursor]

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
        await self._while_in(LifecycleState.MOVING, organization_id, {"pending_move.copying": True})

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
        await self._while_in(
            LifecycleState.MOVING,
            organization_id,
            {"state": LifecycleState.ACTIVE.value},
            unset="pending_move",
        )

    async def collections_per_database(
        self, databases: Iterable[str] | None = None
    ) -> dict[str, int]:
        """How many tenant collections the registry places in each of `databases` (default:
        every database it places any in; "" = the default database, for entries from before
        placement): one indexed count per database, never a pass over the registry."""
        names = await self.databases_in_use() if databases is None else sorted(set(databases))
        return {
            name: await self._organizations.count_documents(_in_database(name)) for name in names
        }

    async def databases_in_use(self) -> list[str]:
        """Every database the registry places a tenant collection in ("" for entries without
        one), walking the `tenant_database` index from one value to the next: one indexed
        read per database, however many organizations each holds."""
        found = []
        if await self._organizations.find_one(_in_database(""), {"_id": 1}) is not None:
            found.append("")
        after = ""
        while True:
            document = await self._organizations.find_one(
                {"tenant_database": {"$gt": after}},
                {"tenant_database": 1},
                sort=[("tenant_database", ASCENDING)],
            )
            if document is None or not isinstance(document.get("tenant_database"), str):
                return found
            after = document["tenant_database"]
            found.append(after)

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

    async def existing(self, organization_ids: list[ObjectId]) -> set[ObjectId]:
        """Which of these organizations have an entry, in whatever state."""
        cursor = self._organizations.find({"_id": {"$in": organization_ids}}, {"_id": 1})
        return {document["_id"] async for document in cursor}

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
    ) -> AsyncIterator["Hold"]:
        """A short mutual exclusion per organization and purpose, shared by every instance:
        a lease on the registry entry, taken by conditional update and expiring by itself
        (HOLD_SECONDS after it was taken or confirmed, on the server's clock) if its holder
        dies. Each holding has a token of its own; only the holder that took a lease gives
        it back, so a holder that outlived its lease never frees the next one's. A holder
        about to act on what it decided under the lease calls `Hold.confirm()` first."""
        field = f"holds.{purpose}"
        hold = Hold(self._organizations, organization_id, field, secrets.token_hex(16))
        deadline = time.monotonic() + wait_seconds
        while True:
            taken = await self._organizations.update_one(
                {
                    "_id": organization_id,
                    # A missing lease reads as null, which sorts before every date.
                    "$expr": {"$lte": [{"$ifNull": [f"${field}.expires_at", None]}, "$$NOW"]},
                },
                [{"$set": {field: {"token": hold.token, "expires_at": _hold_expiry()}}}],
            )
            if taken.modified_count == 1:
                break
            if time.monotonic() >= deadline:
                raise OrganizationBusy()
            await asyncio.sleep(0.01)
        try:
            yield hold
        finally:
            await again(
                lambda: self._organizations.update_one(
                    {"_id": organization_id, f"{field}.token": hold.token},
                    {"$unset": {field: ""}},
                )
            )

    async def plan_of(self, organization_id: ObjectId) -> object:
        """The stored `plan` field (None when the organization never chose one); read it with
        `app.plans.Plans.of`."""
        document = await self._organizations.find_one({"_id": organization_id}, {"plan": 1})
        return (document or {}).get("plan")

    async def billing_of(self, organization_id: ObjectId) -> Document | None:
        """`plan` and the `billing` subdocument of a visible organization."""
        return await self._organizations.find_one(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}}, _BILLING_FIELDS
        )

    async def update_billing(
        self, organization_id: ObjectId, to_set: Document, to_unset: list[str]
    ) -> Document | None:
        """Set and remove billing paths of a visible organization; its billing fields after."""
        update: Document = {"$set": {**to_set, "modified_at": datetime.now(UTC)}}
        if to_unset:
            update["$unset"] = dict.fromkeys(to_unset, "")
        return await self._organizations.find_one_and_update(
            {"_id": organization_id, "state": {"$in": VISIBLE_STATES}},
            update,
            projection=_BILLING_FIELDS,
            return_document=ReturnDocument.AFTER,
        )

    async def holders_of(self, tenant_collection: str) -> list[Document]:
        """Every entry, in any state, that holds or is renaming to this collection name (in
        whichever database: see `app.operations.tenant_catalog.namespaces_named_by`)."""
        cursor = self._organizations.find(
            {
                "$or": [
                    {"tenant_collection": tenant_collection},
                    {"pending_rename.tenant_collection": tenant_collection},
                ]
            }
        )
        return [document async for document in cursor]

    async def require_writable(self, organization_id: ObjectId) -> None:
        """Raise OrganizationSuspended while the organization is suspended."""
        suspended = {"_id": organization_id, "status": Status.SUSPENDED.value}
        if await self._organizations.find_one(suspended, {"_id": 1}) is not None:
            raise OrganizationSuspended()

    async def _while_in(
        self,
        state: LifecycleState,
        organization_id: ObjectId,
        fields: Document,
        *,
        unset: str | None = None,
    ) -> bool:
        """Set `fields` (and the modification time), and remove `unset`, if the organization
        is still in `state`; whether it was."""
        update: Document = {"$set": {**fields, "modified_at": datetime.now(UTC)}}
        if unset:
            update["$unset"] = {unset: ""}
        result = await self._organizations.update_one(
            {"_id": organization_id, "state": state.value}, update
        )
        return result.modified_count == 1

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

    async def correct_owner_count(
        self, organization_id: ObjectId, recorded: object, actual: int
    ) -> bool:
        """Set the owner count unless it moved since it was read as `recorded` (the service
        changes it); `recorded` None matches an entry that has no count yet."""
        where: Document = {"_id": organization_id, "owner_count": recorded}
        if recorded is None:
            where["owner_count"] = {"$exists": False}
        result = await self._organizations.update_one(where, {"$set": {"owner_count": actual}})
        return result.modified_count == 1

    async def reset_owner_count(self, organization_id: ObjectId, count: int) -> None:
        """Overwrite the owner count, for an operator who has just made the owners it counts."""
        await self._organizations.update_one(
            {"_id": organization_id}, {"$set": {"owner_count": count}}
        )

    # Reads for operators, who see every entry whatever its state.

    async def find_any(self, reference: str) -> Document | None:
        """By id (24 hex digits) first, then by name as the service compares names."""
        object_id = parse_object_id(reference.strip().lower())
        if object_id is not None:
            document = await self._organizations.find_one({"_id": object_id})
            if document is not None:
                return document
        return await self._organizations.find_one({"name_key": name_key(reference)})

    async def search(self, where: "OrganizationFilter", default_plan: str) -> list[Document]:
        query: dict[str, Any] = {}
        if where.name_contains:
            # Escaped: the operator's text is matched literally, never run as a pattern.
            query["name"] = {"$regex": re.escape(where.name_contains), "$options": "i"}
        if where.state:
            query["state"] = where.state
        if where.status:
            query["status"] = _absent_means(where.status, Status.ACTIVE.value)
        if where.plan:
            query["plan"] = _absent_means(where.plan, default_plan)
        cursor = self._organizations.find(query).sort("name_key", ASCENDING)
        if where.limit:
            cursor = cursor.limit(where.limit)
        return [document async for document in cursor]

    async def all_documents(self) -> list[Document]:
        return [document async for document in self._organizations.find({})]

    async def ids_in_batches(self, size: int = 1000) -> AsyncIterator[list[ObjectId]]:
        """Every entry's id, `size` at a time in `_id` order, each batch read after the last
        (so no answer or later filter ever holds every id)."""
        after: ObjectId | None = None
        while True:
            query = {"_id": {"$gt": after}} if after is not None else {}
            cursor = self._organizations.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(size)
            batch = [document["_id"] async for document in cursor]
            if not batch:
                return
            yield batch
            after = batch[-1]

    async def count(self) -> int:
        """From the collection's metadata: an operator's total, not a scan."""
        return await self._organizations.estimated_document_count()

    async def count_by(self, field: str, absent: str) -> dict[str, int]:
        """Entries per value of `field`; entries without it count under `absent`."""
        cursor = await self._organizations.aggregate(
            [{"$group": {"_id": f"${field}", "count": {"$sum": 1}}}]
        )
        counts: dict[str, int] = {}
        async for group in cursor:
            key = str(group["_id"]) if group["_id"] is not None else absent
            counts[key] = counts.get(key, 0) + group["count"]
        return counts

    async def search_page(self, where: "OrganizationSearch", window: Window) -> Slice[Document]:
        """One page of the platform API's search, every state included, each filter and the
        order served by one of the `search_*` indexes (`app.db.schema`)."""
        query = where.query()
        if where.by_name:
            reading = BY_NAME.read(window, **where.identity())
            # `name_key` is unique: it orders the list alone, as the index holds it.
            cursor = (
                self._organizations.find(reading.query(query))
                .sort([("name_key", ASCENDING)])
                .skip(reading.skip)
                .limit(reading.fetch)
            )
            total = await bounded_count(self._organizations, query)
            return reading.cut_documents(await cursor.to_list(), total)
        reading = NEWEST_FIRST.read(window, **where.identity())
        return await reading.page(self._organizations, query)


NEWEST_FIRST = Keyset("platform_organizations", "created_at", Kind.DATETIME, descending=True)
BY_NAME = Keyset("platform_organizations_by_name", "name_key", Kind.STRING)


class NameMatch(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    CONTAINS = "contains"


@dataclass(frozen=True, slots=True)
class OrganizationSearch:
    """The platform API's filters. `name` is compared as names are (`name_key`), never run
    as a pattern: exact is an equality, prefix a range on the key, contains an escaped
    `$regex` on the index's keys. `status` and `plan` are pinned to every value when not
    filtered, so that one index per order serves any combination."""

    default_plan: Plan
    name: str | None = None
    match: NameMatch = NameMatch.CONTAINS
    status: Status | None = None
    plan: Plan | None = None
    domain: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    @property
    def key(self) -> str:
        return name_key(self.name or "")

    @property
    def by_name(self) -> bool:
        """Name searches other than exact are read in name order, bounded by the key."""
        return bool(self.key) and self.match is not NameMatch.EXACT

    def identity(self) -> dict[str, object]:
        return {
            "name": self.key or None,
            "match": self.match.value if self.key else None,
            "status": self.status,
            "plan": self.plan,
            "domain": self.domain,
            "after": self.created_after,
            "before": self.created_before,
        }

    def query(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            "status": _absent_means(self.status.value, Status.ACTIVE.value)
            if self.status
            else {"$in": [*(status.value for status in Status), None]},
            "plan": _absent_means(self.plan.value, self.default_plan.value)
            if self.plan
            else {"$in": [*(plan.value for plan in Plan), None]},
        }
        if self.domain:
            query["profile.domain"] = self.domain
        key = self.key
        if key and self.match is NameMatch.EXACT:
            query["name_key"] = key
        elif key and self.match is NameMatch.PREFIX:
            query["name_key"] = {"$gte": key, "$lt": _successor(key)}
        elif key:
            query["name_key"] = {"$regex": re.escape(key)}
        period = {
            op: moment
            for op, moment in (("$gte", self.created_after), ("$lt", self.created_before))
            if moment is not None
        }
        if period:
            query["created_at"] = period
        return query


def _successor(prefix: str) -> str:
    """The least string greater than every string that starts with `prefix` (code point
    order, which is UTF-8 byte order and so the server's): its last character, moved on."""
    for index in range(len(prefix) - 1, -1, -1):
        point = ord(prefix[index]) + 1
        if 0xD800 <= point <= 0xDFFF:  # surrogates are no characters
            point = 0xE000
        if point <= 0x10FFFF:
            return prefix[:index] + chr(point)
    return prefix + "\U0010ffff"  # a prefix of U+10FFFF only (never a name)


def _hold_expiry() -> Document:
    """HOLD_SECONDS from now on the server's clock (an update pipeline expression)."""
    return {"$add": ["$$NOW", HOLD_SECONDS * 1000]}


@dataclass(frozen=True, slots=True)
class Hold:
    """One holding of an organization's lease (see `OrganizationRepository.holding`)."""

    _organizations: AsyncCollection[Document]
    organization_id: ObjectId
    field: str
    token: str

    async def confirm(self) -> None:
        """Make sure the lease is still this holding's, and extend it by HOLD_SECONDS; raise
        OrganizationBusy if another holder took it over after it expired (a slow write, a
        paused process, an election), since what was decided under it may no longer hold."""
        confirmed = await self._organizations.update_one(
            {"_id": self.organization_id, f"{self.field}.token": self.token},
            [{"$set": {f"{self.field}.expires_at": _hold_expiry()}}],
        )
        if confirmed.matched_count != 1:
            raise OrganizationBusy()


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    name_contains: str | None = None
    state: str | None = None
    status: str | None = None
    plan: str | None = None
    limit: int = 0


def _absent_means(value: str, default: str) -> Any:
    # Documents written before the field existed lack it and count as the default.
    return {"$in": [value, None]} if value == default else value


def _in_database(database: str) -> dict[str, Any]:
    """The registry filter for "placed in `database`"; "" matches entries without one."""
    if database:
        return {"tenant_database": database}
    return {"tenant_database": {"$in": ["", None]}}
