"""`/api/v1/organizations/{org_id}/api-keys`: keys for machines acting for the organization."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Request, Response, status

from app.access.permissions import Permission, PermissionsNotHeld, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, ApiKeysDep, OrganizationReader, OrganizationViewer
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.apikeys.service import ApiKeyNotFound
from app.db.ids import parse_object_id
from app.errors import PreconditionFailed
from app.registry.errors import OrganizationSuspended
from app.roles.service import RoleBeingDeleted
from app.workspaces.access import NotAWorkspaceMember, WorkspaceNotFound

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/api-keys",
    tags=["api keys"],
    generate_unique_id_function=operation_ids("api_keys"),
)

KeyPath = Annotated[str, Path(description="The key's id (24 hex digits).")]
RULE = (
    f"{who_may(Permission.MANAGE_API_KEYS)} A key's role is never above yours: an admin "
    "creates and revokes keys up to admin; owner keys take an owner."
)


def _key_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise ApiKeyNotFound()
    return parsed


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (its secret is shown this once)",
    description=RULE,
    responses=errors(
        *SCOPED_ERRORS,
        PermissionsNotHeld,
        RoleBeingDeleted,
        OrganizationSuspended,
        WorkspaceNotFound,
        NotAWorkspaceMember,
    ),
)
async def create(
    body: ApiKeyCreate,
    caller: OrganizationViewer,
    keys: ApiKeysDep,
    request: Request,
    response: Response,
) -> ApiKeyCreated:
    key, secret = await keys.create(
        caller.principal,
        caller.organization,
        body.name,
        body.role,
        parse_object_id(body.workspace_id) if body.workspace_id else None,
        body.expires_at,
    )
    response.headers["Location"] = f"{request.url.path}/{key.id}"
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**ApiKeyRead.of(key).model_dump(), secret=secret)


@router.get(
    "",
    name="list",
    summary="The organization's API keys, newest first (revoked ones included)",
    description=RULE,
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_keys(
    caller: OrganizationReader, keys: ApiKeysDep, page: PageQuery
) -> Page[ApiKeyRead]:
    listed = await keys.list(caller, page.window)
    return Page.of([ApiKeyRead.of(key) for key in listed.items], listed, page)


@router.get(
    "/{key_id}",
    summary="One API key (never its secret)",
    description=RULE,
    responses=errors(*SCOPED_ERRORS, ApiKeyNotFound),
)
async def read(key_id: KeyPath, caller: OrganizationReader, keys: ApiKeysDep) -> ApiKeyRead:
    return ApiKeyRead.of(await keys.get(caller, _key_id(key_id)))


@router.delete(
    "/{key_id}",
    summary="Revoke an API key: its next request fails",
    description=RULE,
    responses=errors(*SCOPED_ERRORS, ApiKeyNotFound, PreconditionFailed),
)
async def revoke(key_id: KeyPath, caller: OrganizationReader, keys: ApiKeysDep) -> Message:
    await keys.revoke(caller, _key_id(key_id))
    return Message(message="API key revoked")
