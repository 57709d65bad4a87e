"""`GET /api/v1/permissions` and `/api/v1/organizations/{org_id}/roles`: the permission
catalogue, and the organization's roles (built-in and its own)."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.access.permissions import Permission, PermissionsNotHeld, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, OrganizationReader, RolesDep, SignedInCaller
from app.api.openapi import operation_ids
from app.api.responses import AUTHENTICATION, errors
from app.errors import PreconditionFailed, RoleNotAllowed
from app.registry.errors import OrganizationSuspended
from app.roles.schemas import (
    AssignedRole,
    PermissionList,
    PermissionRead,
    RoleCreate,
    RoleDeleted,
    RoleList,
    RoleRead,
    RoleUpdate,
)
from app.roles.service import (
    BuiltinRoleFixed,
    RoleBeingDeleted,
    RoleChangedConcurrently,
    RoleInUse,
    RoleLimitReached,
    RoleNotFound,
    RoleSlugInUse,
)

permissions_router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/permissions",
    tags=["roles"],
    generate_unique_id_function=operation_ids("permissions"),
)
router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/roles",
    tags=["roles"],
    generate_unique_id_function=operation_ids("roles"),
)

RolePath = Annotated[str, Path(max_length=64, description="The role's slug.")]
MANAGE_RULE = (
    f"{who_may(Permission.MANAGE_ROLES)} No one defines, changes or deletes a role granting "
    "more than they hold: the role's permissions must all be yours, and a role holding an "
    "owner-only permission takes an owner; one holding `members.manage`, `roles.manage` or "
    "`api_keys.manage`, an owner (`admins.manage`)."
)


@permissions_router.get(
    "",
    name="list",
    summary="The permission catalogue",
    description="Every permission a role can grant, with the built-in roles that hold it. "
    "Any signed-in caller (token or API key).",
    responses=errors(*AUTHENTICATION),
)
async def list_permissions(caller: SignedInCaller) -> PermissionList:
    return PermissionList(permissions=[PermissionRead.of(permission) for permission in Permission])


@router.get(
    "",
    name="list",
    summary="The organization's roles: the built-in ones, then its own",
    description=who_may(Permission.READ_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def list_roles(caller: OrganizationReader, roles: RolesDep) -> RoleList:
    return RoleList(roles=[RoleRead.of(view) for view in await roles.list(caller)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Define a custom role",
    description=MANAGE_RULE,
    responses=errors(
        *SCOPED_ERRORS, PermissionsNotHeld, RoleSlugInUse, RoleLimitReached, OrganizationSuspended
    ),
)
async def create(
    body: RoleCreate,
    caller: OrganizationReader,
    roles: RolesDep,
    request: Request,
    response: Response,
) -> RoleRead:
    view = await roles.create(
        caller, body.slug, body.name, body.description, frozenset(body.permissions)
    )
    response.headers["Location"] = f"{request.url.path}/{body.slug}"
    return RoleRead.of(view)


@router.get(
    "/{slug}",
    summary="A role, built-in or custom",
    description=who_may(Permission.READ_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS, RoleNotFound),
)
async def read(slug: RolePath, caller: OrganizationReader, roles: RolesDep) -> RoleRead:
    return RoleRead.of(await roles.get(caller, slug))


@router.patch(
    "/{slug}",
    summary="Change a custom role (its holders have it from their next request)",
    description=MANAGE_RULE,
    responses=errors(
        *SCOPED_ERRORS,
        PermissionsNotHeld,
        RoleNotFound,
        BuiltinRoleFixed,
        RoleBeingDeleted,
        RoleChangedConcurrently,
        OrganizationSuspended,
        PreconditionFailed,
    ),
)
async def update(
    slug: RolePath, body: RoleUpdate, caller: OrganizationReader, roles: RolesDep
) -> RoleRead:
    view = await roles.update(
        caller,
        slug,
        name=body.name,
        description=body.description,
        permissions=frozenset(body.permissions) if body.permissions is not None else None,
    )
    return RoleRead.of(view)


@router.delete(
    "/{slug}",
    summary="Delete a custom role, moving its holders to `replacement`",
    description=f"{MANAGE_RULE} A role still held by members, pending invitations or API "
    "keys is refused with 409 `role_in_use` and the count of each (`holders`), unless "
    "`replacement` names the role to move them to, which you must be allowed to give.",
    responses=errors(
        *SCOPED_ERRORS,
        PermissionsNotHeld,
        RoleNotFound,
        BuiltinRoleFixed,
        RoleInUse,
        RoleBeingDeleted,
        OrganizationSuspended,
        PreconditionFailed,
        RoleNotAllowed,
    ),
)
async def delete(
    slug: RolePath,
    caller: OrganizationReader,
    roles: RolesDep,
    replacement: Annotated[
        AssignedRole | None,
        Query(description="The role the holders move to (never owner)."),
    ] = None,
) -> RoleDeleted:
    moved = await roles.delete(caller, slug, replacement)
    return RoleDeleted(message="Role deleted", moved=moved)
