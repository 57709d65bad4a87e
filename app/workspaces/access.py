"""Which workspace a caller works in, and with which rights."""

from dataclasses import dataclass

from bson import ObjectId

from app.access.principal import Principal
from app.db.store import Document, Store
from app.errors import Forbidden, NotFound
from app.workspaces.models import Workspace, WorkspaceMember, WorkspaceRole
from app.workspaces.repository import WorkspaceMemberRepository, WorkspaceRepository


class WorkspaceNotFound(NotFound):
    code = "workspace_not_found"
    detail = "Workspace not found"


class NotAWorkspaceMember(Forbidden):
    code = "not_workspace_member"
    detail = "You are not a member of this workspace"


@dataclass(frozen=True, slots=True)
class WorkspaceContext:
    workspace: Workspace
    # The caller's role as a member of the workspace (what its member list says), if any.
    role: WorkspaceRole | None
    # Organization owners and admins: every workspace is open to them, member or not.
    organization_wide: bool = False

    @property
    def can_write(self) -> bool:
        return self.organization_wide or self.role in (WorkspaceRole.ADMIN, WorkspaceRole.EDITOR)

    @property
    def can_manage(self) -> bool:
        return self.organization_wide or self.role is WorkspaceRole.ADMIN


class WorkspaceAccess:
    def __init__(self, store: Store) -> None:
        self.workspaces = WorkspaceRepository(store)
        self.members = WorkspaceMemberRepository(store)

    async def context(
        self, principal: Principal, workspace_id: ObjectId | None = None
    ) -> WorkspaceContext:
        """The caller's rights in `workspace_id`, else in the token's workspace, else in the
        organization's default one."""
        wanted = workspace_id or principal.workspace_id
        organization_id = principal.organization_id
        workspace = (
            await self.workspaces.get(organization_id, wanted)
            if wanted
            else await self.workspaces.ensure_default(organization_id)
        )
        if workspace is None:
            raise WorkspaceNotFound()
        member = await self.members.get(workspace.id, principal.account_id)
        role = member.role if member else None
        if principal.organization_wide:
            return WorkspaceContext(workspace, role, organization_wide=True)
        if role is None:
            raise NotAWorkspaceMember()
        return WorkspaceContext(workspace, role)

    @staticmethod
    def settled(
        principal: Principal, workspace: Document | None, seat: Document | None
    ) -> WorkspaceContext | None:
        """The caller's rights in the token's workspace from its documents as read (the
        workspace, the caller's seat in it), or None where `context` must read them itself:
        no such workspace (a default made before defaults took their organization's id), or a
        caller who is no member of it (`context` raises what that answers)."""
        if workspace is None or workspace.get("organization_id") != principal.organization_id:
            return None
        role = WorkspaceMember.from_document(seat).role if seat else None
        if principal.organization_wide:
            return WorkspaceContext(
                Workspace.from_document(workspace), role, organization_wide=True
            )
        if role is None:
            return None
        return WorkspaceContext(Workspace.from_document(workspace), role)
