"""Every query on custom roles."""

from datetime import datetime

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.access.permissions import Permission
from app.access.roles import RoleName
from app.db.schema import ROLES
from app.db.store import Document, Store
from app.roles.models import CustomRole, role_id


class RoleSlugTaken(Exception):
    pass


def _of_organization(organization_id: ObjectId) -> Document:
    # Every role of the organization sorts between "<organization>:" and "<organization>;".
    return {"_id": {"$gte": f"{organization_id}:", "$lt": f"{organization_id};"}}


class RoleRepository:
    def __init__(self, store: Store) -> None:
        self._roles = store.master[ROLES]

    async def get(self, organization_id: ObjectId, slug: str) -> CustomRole | None:
        document = await self._roles.find_one({"_id": role_id(organization_id, slug)})
        return CustomRole.from_document(document) if document else None

    async def of_organization(self, organization_id: ObjectId) -> list[CustomRole]:
        """Oldest first; an organization has at most `CUSTOM_ROLES_PER_ORGANIZATION`."""
        cursor = self._roles.find(_of_organization(organization_id))
        found = [CustomRole.from_document(document) async for document in cursor]
        return sorted(found, key=lambda role: (role.created_at, role.slug))

    async def of_slugs(self, organization_id: ObjectId, slugs: list[str]) -> list[CustomRole]:
        ids = [role_id(organization_id, slug) for slug in slugs]
        cursor = self._roles.find({"_id": {"$in": ids}})
        return [CustomRole.from_document(document) async for document in cursor]

    async def count(self, organization_id: ObjectId) -> int:
        return await self._roles.count_documents(_of_organization(organization_id))

    async def insert(self, role: CustomRole) -> None:
        try:
            await self._roles.insert_one(role.to_document())
        except DuplicateKeyError:
            raise RoleSlugTaken() from None

    async def update(
        self,
        role: CustomRole,
        at: datetime,
        *,
        name: str | None = None,
        description: str | None = None,
        permissions: frozenset[Permission] | None = None,
    ) -> CustomRole | None:
        """Change the role if it is still the version read and no delete is under way;
        the role as changed, or None."""
        changes: Document = {"modified_at": at}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = description
        if permissions is not None:
            changes["permissions"] = sorted(p.value for p in permissions)
        document = await self._roles.find_one_and_update(
            {"_id": role.id, "version": role.version, "replacing_with": None},
            {"$set": changes, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return CustomRole.from_document(document) if document else None

    async def mark_replacing(self, role: CustomRole, replacement: RoleName) -> bool:
        """Begin a delete that moves the role's holders to `replacement`; False if the role
        is gone. A delete begun before (and interrupted) may be begun again."""
        result = await self._roles.update_one(
            {"_id": role.id}, {"$set": {"replacing_with": replacement}}
        )
        return result.matched_count == 1

    async def delete(self, role: CustomRole) -> bool:
        result = await self._roles.delete_one({"_id": role.id})
        return result.deleted_count == 1

    async def delete_for_organization(self, organization_id: ObjectId) -> None:
        await self._roles.delete_many(_of_organization(organization_id))
