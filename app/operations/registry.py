"""The queries operator commands make on the master database beyond the service's own.

Operators look at every organization whatever its state, which the service's repositories
deliberately do not; every such filter is named here.
"""

import re
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from app.auth.models import Role
from app.db.ids import parse_object_id
from app.db.naming import name_key
from app.db.schema import ACCOUNTS, IDENTIFIER_CLAIMS, MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Document, Store, TenantNamespace
from app.operations.tenant_catalog import namespaces_named_by
from app.organizations.models import Status


@dataclass(frozen=True, slots=True)
class OrganizationFilter:
    name_contains: str | None = None
    state: str | None = None
    status: str | None = None
    plan: str | None = None
    limit: int = 0


class OperatorRegistry:
    def __init__(self, store: Store, *, default_plan: str = "free") -> None:
        self._organizations = store.master[ORGANIZATIONS]
        self._accounts = store.master[ACCOUNTS]
        self._memberships = store.master[MEMBERSHIPS]
        self._claims = store.master[IDENTIFIER_CLAIMS]
        self._default_plan = default_plan

    async def find_organization(self, reference: str) -> Document | None:
        """By id (24 hex digits) first, then by name as the service compares names."""
        object_id = parse_object_id(reference.strip().lower())
        if object_id is not None:
            document = await self._organizations.find_one({"_id": object_id})
            if document is not None:
                return document
        return await self._organizations.find_one({"name_key": name_key(reference)})

    async def list_organizations(self, where: OrganizationFilter) -> list[Document]:
        query: dict[str, Any] = {}
        if where.name_contains:
            # Escaped: the operator's text is matched literally, never run as a pattern.
            query["name"] = {"$regex": re.escape(where.name_contains), "$options": "i"}
        if where.state:
            query["state"] = where.state
        if where.status:
            query["status"] = self._absent_means(where.status, Status.ACTIVE.value)
        if where.plan:
            query["plan"] = self._absent_means(where.plan, self._default_plan)
        cursor = self._organizations.find(query).sort("name_key", ASCENDING)
        if where.limit:
            cursor = cursor.limit(where.limit)
        return [document async for document in cursor]

    async def all_organizations(self) -> list[Document]:
        return [document async for document in self._organizations.find({})]

    async def points_to(self, namespace: TenantNamespace, default_database: str) -> bool:
        """Whether any organization uses the collection, or is moving to or from it."""
        cursor = self._organizations.find(
            {
                "$or": [
                    {"tenant_collection": namespace.collection},
                    {"pending_rename.tenant_collection": namespace.collection},
                ]
            },
        )
        async for document in cursor:
            if namespace in namespaces_named_by(document, default_database):
                return True
        return False

    async def member_counts(
        self, organization_ids: list[ObjectId] | None = None, role: Role | None = None
    ) -> dict[ObjectId, int]:
        match: dict[str, Any] = {}
        if organization_ids is not None:
            match["organization_id"] = {"$in": organization_ids}
        if role is not None:
            match["role"] = role.value
        cursor = await self._memberships.aggregate(
            [{"$match": match}, {"$group": {"_id": "$organization_id", "count": {"$sum": 1}}}]
        )
        return {group["_id"]: group["count"] async for group in cursor}

    async def owner_emails(self, organization_id: ObjectId) -> list[str]:
        cursor = self._memberships.find(
            {"organization_id": organization_id, "role": Role.OWNER.value}, {"account_id": 1}
        )
        owner_ids = [document["account_id"] async for document in cursor]
        accounts = self._accounts.find({"_id": {"$in": owner_ids}}, {"email": 1})
        return sorted([document["email"] async for document in accounts])

    async def claims(self) -> list[Document]:
        return [document async for document in self._claims.find({})]

    async def accounts_without_membership(self) -> list[tuple[ObjectId, str]]:
        # A membership's `_id` starts with its account's id in hex, and hex order is ObjectId
        # order: both collections stream in one order and a single merge finds the accounts
        # no membership names, without holding every id in memory.
        memberships = self._memberships.find({}, {"_id": 1}).sort("_id", ASCENDING)
        member = await _account_part(memberships)
        lonely: list[tuple[ObjectId, str]] = []
        async for account in self._accounts.find({}, {"email": 1}).sort("_id", ASCENDING):
            key = str(account["_id"])
            while member is not None and member < key:
                member = await _account_part(memberships)
            if member != key:
                lonely.append((account["_id"], str(account.get("email", "?"))))
        await memberships.close()
        return lonely

    async def count_by_field(self, field: str, absent: str) -> dict[str, int]:
        cursor = await self._organizations.aggregate(
            [{"$group": {"_id": f"${field}", "count": {"$sum": 1}}}]
        )
        counts: dict[str, int] = {}
        async for group in cursor:
            key = str(group["_id"]) if group["_id"] is not None else absent
            counts[key] = counts.get(key, 0) + group["count"]
        return counts

    async def totals(self) -> dict[str, int]:
        return {
            "organizations": await self._organizations.count_documents({}),
            "accounts": await self._accounts.count_documents({}),
            "memberships": await self._memberships.count_documents({}),
            "identifier claims": await self._claims.count_documents({}),
        }

    async def correct_owner_count(
        self, organization_id: ObjectId, recorded: object, actual: int
    ) -> bool:
        """Set the owner count unless it moved since it was read (the service changes it)."""
        result = await self._organizations.update_one(
            {"_id": organization_id, "owner_count": recorded}, {"$set": {"owner_count": actual}}
        )
        return result.modified_count == 1

    async def set_owner_count(self, organization_id: ObjectId, count: int) -> None:
        await self._organizations.update_one(
            {"_id": organization_id}, {"$set": {"owner_count": count}}
        )

    def plan_of(self, organization: Document) -> str:
        plan = organization.get("plan")
        return plan if isinstance(plan, str) and plan else self._default_plan

    @staticmethod
    def _absent_means(value: str, default: str) -> Any:
        # Documents written before the field existed lack it and count as the default.
        return {"$in": [value, None]} if value == default else value


async def _account_part(cursor: Any) -> str | None:
    document = await anext(cursor, None)
    return None if document is None else str(document["_id"]).split(":", 1)[0]
