"""Give organizations from before workspaces their default workspace; safe to repeat."""

import logging

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.db.store import Store
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCollections
from app.workspaces.models import WorkspaceRole
from app.workspaces.repository import WorkspaceMemberRepository, WorkspaceRepository

logger = logging.getLogger(__name__)

_WORKSPACE_ROLE: dict[str, WorkspaceRole] = {
    Role.OWNER: WorkspaceRole.ADMIN,
    Role.ADMIN: WorkspaceRole.ADMIN,
    Role.MEMBER: WorkspaceRole.EDITOR,
}


async def migrate_to_workspaces(store: Store) -> int:
    """For every organization without a default workspace: create it, make its members
    members of it, and file its existing tenant documents under it. Returns how many
    organizations were migrated."""
    organizations = OrganizationRepository(store)
    memberships = MembershipRepository(store)
    workspaces = WorkspaceRepository(store)
    members = WorkspaceMemberRepository(store)
    tenants = TenantCollections(store)
    pending = [
        organization_id
        async for batch in organizations.ids_in_batches()
        for organization_id in await workspaces.organizations_without_default(batch)
    ]
    for organization_id in pending:
        default = await workspaces.ensure_default(organization_id)
        for membership in await memberships.of_organization(organization_id):
            role = _WORKSPACE_ROLE.get(membership.role, WorkspaceRole.VIEWER)
            await members.put(organization_id, default.id, membership.account_id, role)
        namespace = await organizations.namespace_of(organization_id)
        if namespace is not None and await tenants.exists(namespace):
            await tenants.file_unfiled_under(namespace, default.id)
            await tenants.ensure_workspace_index(namespace)
    if pending:
        logger.info("gave %d organizations their default workspace", len(pending))
    return len(pending)
