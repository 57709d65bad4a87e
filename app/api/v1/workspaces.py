"""`/api/v1/organizations/{org_id}/workspaces`."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Query, Request, Response, status

from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, OrganizationReader, WorkspacesDep
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.db.ids import parse_object_id
from app.errors import PreconditionFailed
from app.registry.errors import OrganizationSuspended
from app.workspaces.access import NotAWorkspaceMember, WorkspaceNotFound
from app.workspaces.models import WorkspaceRole
from app.workspaces.schemas import (
    WorkspaceCreate,
    WorkspaceMemberPut,
    WorkspaceMemberRead,
    WorkspaceRead,
    WorkspaceRename,
)
from app.workspaces.service import (
    DefaultWorkspaceIsPermanent,
    NotAnOrganizationMember,
    NotAWorkspaceAdmin,
    WorkspaceDataMoving,
    WorkspaceHoldsData,
    WorkspaceNameInUse,
)

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/workspaces",
    tags=["workspaces"],
    generate_unique_id_function=operation_ids("workspaces"),
)

READ_ERRORS = (*SCOPED_ERRORS, WorkspaceNotFound, NotAWorkspaceMember)
RESPONSES = errors(*READ_ERRORS)
CHANGE_ERRORS = (
    *READ_ERRORS,
    NotAWorkspaceAdmin,
    WorkspaceNameInUse,
    DefaultWorkspaceIsPermanent,
    WorkspaceHoldsData,
    NotAnOrganizationMember,
    OrganizationSuspended,
)
CHANGES = errors(*CHANGE_ERRORS)
# A workspace's own path answers GET, so changes there can be conditional.
CONDITIONAL_CHANGES = errors(*CHANGE_ERRORS, PreconditionFailed)
MANAGERS = "Organization owners and admins, or the workspace's admins."
CREATORS = "Organization owners and admins."
VISIBLE = "Organization owners and admins: every workspace. Others: the ones they belong to."


WorkspacePath = Annotated[str, Path(description="The workspace's id.")]


def _id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise WorkspaceNotFound()
    return parsed


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a workspace",
    description=CREATORS,
    responses=CHANGES,
)
async def create(
    body: WorkspaceCreate,
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
    request: Request,
    response: Response,
) -> WorkspaceRead:
    view = await workspaces.create(caller, body.name)
    response.headers["Location"] = f"{request.url.path}/{view.workspace.id}"
    return WorkspaceRead.of(view)


@router.get(
    "",
    name="list",
    summary="List workspaces",
    description=VISIBLE,
    responses={**RESPONSES, **PAGED},
)
async def list_workspaces(
    caller: OrganizationReader, workspaces: WorkspacesDep, page: PageQuery
) -> Page[WorkspaceRead]:
    listed = await workspaces.visible_to(caller, page.window)
    return Page.of([WorkspaceRead.of(v) for v in listed.items], listed, page)


@router.get(
    "/{workspace_id}",
    summary="A workspace with its statistics",
    description=VISIBLE,
    responses=RESPONSES,
)
async def read(
    workspace_id: WorkspacePath, caller: OrganizationReader, workspaces: WorkspacesDep
) -> WorkspaceRead:
    return WorkspaceRead.of(await workspaces.read(caller, _id(workspace_id)))


@router.patch(
    "/{workspace_id}", summary="Rename", description=MANAGERS, responses=CONDITIONAL_CHANGES
)
async def rename(
    workspace_id: WorkspacePath,
    body: WorkspaceRename,
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
) -> WorkspaceRead:
    return WorkspaceRead.of(await workspaces.rename(caller, _id(workspace_id), body.name))


@router.post(
    "/{workspace_id}/archive",
    summary="Archive (documents become read-only)",
    description=MANAGERS,
    responses=CHANGES,
)
async def archive(
    workspace_id: WorkspacePath, caller: OrganizationReader, workspaces: WorkspacesDep
) -> WorkspaceRead:
    return WorkspaceRead.of(await workspaces.set_archived(caller, _id(workspace_id), True))


@router.post(
    "/{workspace_id}/unarchive", summary="Unarchive", description=MANAGERS, responses=CHANGES
)
async def unarchive(
    workspace_id: WorkspacePath, caller: OrganizationReader, workspaces: WorkspacesDep
) -> WorkspaceRead:
    return WorkspaceRead.of(await workspaces.set_archived(caller, _id(workspace_id), False))


@router.delete(
    "/{workspace_id}",
    summary="Delete a workspace (not the default one)",
    description=f"{CREATORS} One that holds documents takes `confirm=true`; they go too.",
    responses=errors(*CHANGE_ERRORS, PreconditionFailed, WorkspaceDataMoving),
)
async def delete(
    workspace_id: WorkspacePath,
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
    confirm: Annotated[bool, Query(description="Delete its documents as well.")] = False,
) -> Message:
    deleted = await workspaces.delete(caller, _id(workspace_id), confirm)
    return Message(message=f"Workspace deleted with {deleted} documents")


@router.get(
    "/{workspace_id}/members",
    summary="Members of a workspace",
    description=VISIBLE,
    responses={**RESPONSES, **PAGED},
)
async def list_members(
    workspace_id: WorkspacePath,
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
    page: PageQuery,
) -> Page[WorkspaceMemberRead]:
    listed = await workspaces.members(caller, _id(workspace_id), page.window)
    return Page.of([WorkspaceMemberRead.of(m) for m in listed.items], listed, page)


@router.put(
    "/{workspace_id}/members/{account_id}",
    summary="Add an organization member to the workspace, or change their role",
    description=MANAGERS,
    responses=CHANGES,
)
async def put_member(
    workspace_id: WorkspacePath,
    account_id: Annotated[str, Path()],
    body: WorkspaceMemberPut,
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
) -> Message:
    await workspaces.put_member(
        caller, _id(workspace_id), _id(account_id), WorkspaceRole(body.role)
    )
    return Message(message="Workspace member saved")


@router.delete(
    "/{workspace_id}/members/{account_id}",
    summary="Remove someone from the workspace",
    description=MANAGERS,
    responses=CHANGES,
)
async def remove_member(
    workspace_id: WorkspacePath,
    account_id: Annotated[str, Path()],
    caller: OrganizationReader,
    workspaces: WorkspacesDep,
) -> Message:
    await workspaces.remove_member(caller, _id(workspace_id), _id(account_id))
    return Message(message="Removed from the workspace")
