"""`/api/v1/organizations/{org_id}/members`: list, change roles, remove, leave, hand over."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Query

from app.access.permissions import Permission, PermissionsNotHeld, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, MembersDep, OrganizationOwner, OrganizationReader
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.db.ids import parse_object_id
from app.errors import PreconditionFailed
from app.members.schemas import MemberRead, OwnershipTransfer, RoleChange
from app.members.service import ChangedConcurrently, LastOwner, MemberNotFound
from app.registry.errors import OrganizationSuspended
from app.roles.schemas import AssignedRole
from app.roles.service import RoleBeingDeleted

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/members",
    tags=["members"],
    generate_unique_id_function=operation_ids("members"),
)

CHANGES = errors(
    *SCOPED_ERRORS, MemberNotFound, LastOwner, ChangedConcurrently, OrganizationSuspended
)
# A member has a GET, so a change to it honours If-Match (`app.api.conditional`).
CONDITIONAL_CHANGES = errors(
    *SCOPED_ERRORS,
    RoleBeingDeleted,
    PermissionsNotHeld,
    MemberNotFound,
    LastOwner,
    ChangedConcurrently,
    OrganizationSuspended,
    PreconditionFailed,
)
CHANGE_RULE = (
    "Changing or removing a member, viewer or billing_admin takes owner or admin; an admin, "
    "owner only; an owner, owner only and never the last one. A custom role is classed by "
    "what it grants (any owner-only permission: as an owner; `members.manage`, "
    "`roles.manage` or `api_keys.manage`: as an admin; else as a member), and giving one "
    "takes every permission it grants."
)


AccountPath = Annotated[str, Path(description="The member's account id.")]


@router.get(
    "",
    name="list",
    summary="List members",
    description=who_may(Permission.READ_ORGANIZATION),
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_members(
    caller: OrganizationReader,
    members: MembersDep,
    page: PageQuery,
    role: Annotated[AssignedRole | None, Query(description="Only members with this role.")] = None,
) -> Page[MemberRead]:
    listed = await members.list(caller, role, page.window)
    return Page.of([MemberRead.of(v) for v in listed.items], listed, page)


@router.get(
    "/{account_id}",
    summary="A member",
    description=who_may(Permission.READ_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS, MemberNotFound),
)
async def read(
    account_id: AccountPath, caller: OrganizationReader, members: MembersDep
) -> MemberRead:
    return MemberRead.of(await members.get(caller, _account_id(account_id)))


@router.patch(
    "/{account_id}",
    summary="Change a member's role",
    description=CHANGE_RULE,
    responses=CONDITIONAL_CHANGES,
)
async def change_role(
    account_id: AccountPath, body: RoleChange, caller: OrganizationReader, members: MembersDep
) -> MemberRead:
    view = await members.change_role(caller, _account_id(account_id), body.role)
    return MemberRead.of(view)


@router.delete(
    "/{account_id}",
    summary="Remove a member",
    description=CHANGE_RULE,
    responses=CONDITIONAL_CHANGES,
)
async def remove(
    account_id: AccountPath, caller: OrganizationReader, members: MembersDep
) -> Message:
    await members.remove(caller, _account_id(account_id))
    return Message(message="Member removed")


@router.post(
    "/leave",
    summary="Leave the organization",
    description="Any member; the last owner must transfer ownership first.",
    responses=CHANGES,
)
async def leave(caller: OrganizationReader, members: MembersDep) -> Message:
    await members.leave(caller)
    return Message(message="You have left the organization")


@router.post(
    "/transfer-ownership",
    summary="Make another member owner (you become admin)",
    description=who_may(Permission.DELETE_ORGANIZATION),
    responses=CHANGES,
)
async def transfer_ownership(
    body: OwnershipTransfer,
    caller: OrganizationOwner,
    members: MembersDep,
) -> Message:
    await members.transfer_ownership(caller, _account_id(body.account_id))
    return Message(message="Ownership transferred")


def _account_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise MemberNotFound()
    return parsed
