"""Managing workspaces and who works in them.

Organization owners and admins manage every workspace; a workspace's own admins manage
that workspace (rename, archive, members). Creating workspaces is for organization owners
and admins. The default workspace can be renamed but neither archived nor deleted.
"""

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection

from app.access.principal import Principal
from app.accounts.memberships import MembershipRepository
from app.db.keyset import Slice, Window
from app.db.retry import again
from app.db.store import Document, Store
from app.errors import Conflict, Forbidden, InvalidInput, ServiceUnavailable
from app.events.catalogue import EventType
from app.events.models import Actor, Draft, Subject
from app.events.outbox import Outbox
from app.registry.models import LifecycleState
from app.registry.repository import OrganizationRepository
from app.registry.write_leases import WriteLeases
from app.workspaces.access import WorkspaceAccess, WorkspaceContext, WorkspaceNotFound
from app.workspaces.event_subjects import (
    named_subject,
    seat_subject,
    workspace_data,
    workspace_subject,
)
from app.workspaces.models import Workspace, WorkspaceMember, WorkspaceRole
from app.workspaces.repository import WorkspaceNameTaken


class WorkspaceNameInUse(Conflict):
    code = "workspace_name_taken"
    detail = "A workspace with this name already exists in the organization"


class DefaultWorkspaceIsPermanent(Conflict):
    code = "default_workspace_permanent"
    detail = "The default workspace cannot be archived or deleted"


class WorkspaceHoldsData(Conflict):
    code = "workspace_not_empty"
    detail = "The workspace holds documents; delete it with confirm=true to delete them too"


class WorkspaceDataMoving(ServiceUnavailable):
    code = "workspace_data_moving"
    detail = "The organization's data is being moved; delete the workspace in a moment"


class NotAWorkspaceAdmin(Forbidden):
    code = "not_workspace_admin"
    detail = "Only organization owners and admins, or this workspace's admins, may do this"


class NotAnOrganizationMember(Conflict):
    code = "not_organization_member"
    detail = "Only members of the organization can be added to its workspaces"


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    workspace: Workspace
    members: int
    documents: int
    your_role: WorkspaceRole | None


class WorkspaceService:
    def __init__(
        self,
        store: Store,
        access: WorkspaceAccess,
        memberships: MembershipRepository,
        organizations: OrganizationRepository,
        leases: WriteLeases | None = None,
        *,
        events: Outbox,
    ) -> None:
        self._store = store
        self._leases = leases or WriteLeases(store)
        self._access = access
        self._workspaces = access.workspaces
        self._members = access.members
        self._memberships = memberships
        self._organizations = organizations
        self._events = events

    async def create(self, principal: Principal, name: str) -> WorkspaceView:
        if not principal.organization_wide:
            raise NotAWorkspaceAdmin()
        await self._organizations.require_writable(principal.organization_id)
        await self._workspaces.ensure_default(principal.organization_id)
        async with self._recording(
            EventType.WORKSPACE_CREATED,
            principal,
            {"name": name},
            named_subject(principal.organization_id, name),
        ) as draft:
            try:
                workspace = await self._workspaces.create(principal.organization_id, name)
            except WorkspaceNameTaken:
                # Refused inside the recording: the workspace that holds the name is not
                # this change, and the event is dropped rather than judged by reading it.
                raise WorkspaceNameInUse() from None
            draft.data = workspace_data(workspace)
        return await self._view(WorkspaceContext(workspace, None, organization_wide=True))

    async def visible_to(self, principal: Principal, window: Window) -> Slice[WorkspaceView]:
        """All workspaces for owners and admins; the caller's own for everyone else."""
        await self._workspaces.ensure_default(principal.organization_id)
        mine = await self._members.of_account(principal.organization_id, principal.account_id)
        roles = {m.workspace_id: m.role for m in mine}
        wide = principal.organization_wide
        only = None if wide else list(roles)
        page = await self._workspaces.page(principal.organization_id, only, window)
        views = [
            await self._view(WorkspaceContext(w, roles.get(w.id), organization_wide=wide))
            for w in page.items
        ]
        return page.with_items(views)

    async def read(self, principal: Principal, workspace_id: ObjectId) -> WorkspaceView:
        return await self._view(await self._access.context(principal, workspace_id))

    async def rename(
        self, principal: Principal, workspace_id: ObjectId, name: str
    ) -> WorkspaceView:
        context = await self._managed(principal, workspace_id)
        workspace = context.workspace
        try:
            async with self._recording(
                EventType.WORKSPACE_RENAMED,
                principal,
                {**workspace_data(workspace), "name": name, "previous_name": workspace.name},
                workspace_subject(workspace, name=name),
            ) as draft:
                if name == workspace.name:
                    draft.skip()
                await self._workspaces.rename(workspace, name)
        except WorkspaceNameTaken:
            raise WorkspaceNameInUse() from None
        return await self.read(principal, workspace_id)

    async def set_archived(
        self, principal: Principal, workspace_id: ObjectId, archived: bool
    ) -> WorkspaceView:
        context = await self._managed(principal, workspace_id)
        if context.workspace.is_default and archived:
            raise DefaultWorkspaceIsPermanent()
        workspace = context.workspace
        async with self._recording(
            EventType.WORKSPACE_ARCHIVED if archived else EventType.WORKSPACE_UNARCHIVED,
            principal,
            {**workspace_data(workspace), "archived": archived},
            workspace_subject(workspace, archived=archived),
        ) as draft:
            if workspace.archived is archived:
                draft.skip()
            await self._workspaces.set_archived(workspace, archived)
        return await self.read(principal, workspace_id)

    async def delete(self, principal: Principal, workspace_id: ObjectId, confirm: bool) -> int:
        """Delete the workspace; its documents too, which takes `confirm`. Returns how many
        documents went."""
        if not principal.organization_wide:
            raise NotAWorkspaceAdmin()
        context = await self._managed(principal, workspace_id)
        if context.workspace.is_default:
            raise DefaultWorkspaceIsPermanent()
        async with self._recording(
            EventType.WORKSPACE_DELETED,
            principal,
            workspace_data(context.workspace),
            workspace_subject(context.workspace, present=False),
        ) as draft:
            deleted = await self._delete(principal, context, confirm)
            draft.data = {**workspace_data(context.workspace), "documents_deleted": deleted}
        return deleted

    async def _delete(self, principal: Principal, context: WorkspaceContext, confirm: bool) -> int:
        workspace_id = context.workspace.id
        # Like a document write: under a write lease, taken before reading where the
        # collection is, so a rename or move either waits for this delete or is seen by it.
        lease = await self._leases.acquire(principal.organization_id)
        try:
            organization = await self._organizations.get_visible(principal.organization_id)
            if organization is None:
                raise WorkspaceNotFound()
            if organization.state is not LifecycleState.ACTIVE:
                raise WorkspaceDataMoving()
            collection = self._store.collection(organization.namespace)
            holding = await collection.count_documents({"workspace_id": workspace_id})
            if holding and not confirm:
                raise WorkspaceHoldsData()
            deleted = await again(lambda: collection.delete_many({"workspace_id": workspace_id}))
        finally:
            await self._leases.release(lease)
        # The documents are gone, so the delete is in effect: the rest follows.
        await again(lambda: self._members.delete_for_workspace(workspace_id))
        await again(lambda: self._workspaces.delete(context.workspace))
        # A delete sent again after its answer was lost finds nothing left to delete.
        return max(deleted.deleted_count, holding)

    async def members(
        self, principal: Principal, workspace_id: ObjectId, window: Window
    ) -> Slice[WorkspaceMember]:
        context = await self._access.context(principal, workspace_id)
        return await self._members.page(context.workspace.id, window)

    async def put_member(
        self,
        principal: Principal,
        workspace_id: ObjectId,
        account_id: ObjectId,
        role: WorkspaceRole,
    ) -> None:
        context = await self._managed(principal, workspace_id)
        if await self._memberships.get(account_id, principal.organization_id) is None:
            raise NotAnOrganizationMember()
        async with self._recording(
            EventType.WORKSPACE_MEMBER_PUT,
            principal,
            _seat_data(context.workspace, account_id, role),
            seat_subject(context.workspace.id, account_id, role=role.value),
        ):
            await self._members.put(
                principal.organization_id, context.workspace.id, account_id, role
            )

    async def remove_member(
        self, principal: Principal, workspace_id: ObjectId, account_id: ObjectId
    ) -> None:
        context = await self._managed(principal, workspace_id)
        async with self._recording(
            EventType.WORKSPACE_MEMBER_REMOVED,
            principal,
            _seat_data(context.workspace, account_id, None),
            seat_subject(context.workspace.id, account_id, present=False),
        ):
            if not await self._members.remove(context.workspace.id, account_id):
                raise InvalidInput(("path", "account_id"), "not a member of this workspace")

    def _recording(
        self, event_type: EventType, principal: Principal, data: dict[str, object], subject: Subject
    ) -> AbstractAsyncContextManager[Draft]:
        return self._events.recording(
            event_type, principal.organization_id, Actor.of(principal), data, subject
        )

    async def _managed(self, principal: Principal, workspace_id: ObjectId) -> WorkspaceContext:
        await self._organizations.require_writable(principal.organization_id)
        context = await self._access.context(principal, workspace_id)
        if not context.can_manage:
            raise NotAWorkspaceAdmin()
        return context

    async def _view(self, context: WorkspaceContext) -> WorkspaceView:
        workspace = context.workspace
        collection = await self._collection_for(workspace.organization_id)
        documents = (
            await collection.count_documents({"workspace_id": workspace.id}) if collection else 0
        )
        return WorkspaceView(
            workspace, await self._members.count(workspace.id), documents, context.role
        )

    async def _collection_for(self, organization_id: ObjectId) -> AsyncCollection[Document] | None:
        organization = await self._organizations.get_visible(organization_id)
        return self._store.collection(organization.namespace) if organization else None


def _seat_data(
    workspace: Workspace, account_id: ObjectId, role: WorkspaceRole | None
) -> dict[str, object]:
    return {
        "workspace": workspace_data(workspace),
        "account_id": str(account_id),
        "role": role.value if role else None,
    }
