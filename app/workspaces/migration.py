"""Give organizations from before workspaces their default workspace; safe to repeat."""

import logging

from bson import ObjectId

from app.auth.models import Role
from app.db.schema import MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Store, TenantNamespace
from app.organizations.tenants import TenantCollections
from app.workspaces.models import WorkspaceRole
from app.workspaces.repository import WorkspaceMemberRepository, WorkspaceRepository

logger = logging.getLogger(__name__)

_WORKSPACE_ROLE = {
    Role.OWNER.value: WorkspaceRole.ADMIN,
    Role.ADMIN.value: WorkspaceRole.ADMIN,
    Role.MEMBER.value: WorkspaceRole.EDITOR,
}


async def migrate_to_workspaces(store: Store) -> int:
    """For every organization without a default workspace: create it, make its members
    members of it, and file its existing tenant documents under it. Returns how many
    organizations were migrated."""
    workspaces = WorkspaceRepository(store)
    members = WorkspaceMemberRepository(store)
    tenants = TenantCollections(store)
    organization_ids: list[ObjectId] = await store.master[ORGANIZATIONS].distinct("_id")
    pending = await workspaces.organizations_without_default(organization_ids)
    for organization_id in pending:
        default = await workspaces.ensure_default(organization_id)
        cursor = store.master[MEMBERSHIPS].find({"organization_id": organization_id})
        async for membership in cursor:
            role = _WORKSPACE_ROLE.get(membership["role"], WorkspaceRole.VIEWER)
            await members.put(organization_id, default.id, membership["account_id"], role)
        organization = await store.master[ORGANIZATIONS].find_one(
            {"_id": organization_id}, {"tenant_collection": 1, "tenant_database": 1}
        )
        if organization is None:
            continue
        collection = TenantNamespace(
            organization.get("tenant_database", ""), organization["tenant_collection"]
        )
        if await tenants.exists(collection):
            await store.collection(collection).update_many(
                {"workspace_id": {"$exists": False}}, {"$set": {"workspace_id": default.id}}
            )
            await tenants.ensure_workspace_index(collection)
    if pending:
        logger.info("gave %d organizations their default workspace", len(pending))
    return len(pending)
