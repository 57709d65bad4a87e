"""`/api/v1/organizations/{org_id}/members`: list, change roles, remove, leave, hand over."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Query

from app.access.permissions import Action, who_may
from app.access.roles import Role
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, MembersDep, OrganizationOwner, OrganizationReader
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import Message, errors
from app.db.ids import parse_object_id
from app.errors import PreconditionFailed
from app.members.schemas import MemberRead, OwnershipTransfer, RoleChange, RoleName
from app.members.service import ChangedConcurrently, LastOwner, MemberNotFound
from app.registry.errors import OrganizationSuspended

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
    MemberNotFound,
    LastOwner,
    ChangedConcurrently,
    OrganizationSuspended,
    PreconditionFailed,
)
CHANGE_RULE = (
    "Changing or removing a member, viewer or billing_admin takes owner or admin; an admin, "
    "owner only; an owner, owner only and never the last one."
)


AccountPath = Annotated[str, Path(description="The member's account id.")]


@router.get(
    "",
    name="list",
    summary="List members",
    description=who_may(Action.READ_ORGANIZATION),
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_members(
    caller: OrganizationReader,
    members: MembersDep,
    page: PageQuery,
    role: Annotated[RoleName | None, Query(description="Only members with this role.")] = None,
) -> Page[MemberRead]:
    listed = await members.list(caller, Role(role) if role else None, page.window)
    return Page.of([MemberRead.of(v) for v in listed.items], listed, page)


@router.get(
    "/{account_id}",
    summary="A member",
    description=who_may(Action.READ_ORGANIZATION),
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
    view = await members.change_role(caller, _account_id(account_id), Role(body.role))
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
    description=who_may(Action.DELETE_ORGANIZATION),
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
