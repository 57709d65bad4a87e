"""`/api/v1/admin`: the operator's management of every organization, for platform keys.

Reads take a key with the `read` scope, changes one with `write` (`app.api.admin_auth`),
over `PlatformAdministration` (`app.platform.administration`).
"""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Query, Request, Response, status

from app.access.credentials import Email
from app.access.roles import Role
from app.api.admin_auth import READ_ERRORS, WRITE_ERRORS, PlatformReader, PlatformWriter
from app.api.bodies import CheckedBodyRoute
from app.api.deps import PlatformDep
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import errors
from app.billing.schemas import BillingRead
from app.db.ids import parse_object_id
from app.errors import AppError, InvalidInput, PreconditionFailed
from app.invitations.seats import MemberLimitReached, PlanTooSmall
from app.kit.times import Rfc3339Input
from app.members.schemas import MemberRead
from app.organizations.lifecycle import CreateUndone
from app.organizations.retention import OrganizationNotDeleted
from app.organizations.v1_schemas import Domain, OrganizationDeleted
from app.plans import Plan
from app.platform.administration import AccountNotFound, AlreadyMemberOf, OwnerChoice
from app.platform.schemas import (
    AccountOrganizationRead,
    ManagedOrganizationCreated,
    ManagedOrganizationRead,
    MemberAdd,
    OrganizationListed,
    PlanChange,
    PlatformAccountRead,
    PlatformOrganizationCreate,
)
from app.registry.errors import (
    EmailAlreadyRegistered,
    OperationInProgress,
    OrganizationBusy,
    OrganizationNameTaken,
    OrganizationNotFound,
    OrganizationSuspended,
    TenantCollectionOccupied,
)
from app.registry.models import Status
from app.registry.repository import NameMatch, OrganizationSearch
from app.registry.write_leases import TenantBusy

TAG = "Platform administration"
router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/admin",
    tags=[TAG],
    generate_unique_id_function=operation_ids("admin"),
)

READS: tuple[type[AppError], ...] = (InvalidInput, *READ_ERRORS)
CHANGES: tuple[type[AppError], ...] = (
    InvalidInput,
    *WRITE_ERRORS,
    OrganizationNotFound,
    PreconditionFailed,
)
LIFECYCLE: tuple[type[AppError], ...] = (OperationInProgress, OrganizationBusy, TenantBusy)
OrganizationPath = Annotated[str, Path(description="The organization's id (24 hex digits).")]
AccountPath = Annotated[str, Path(description="The account's id (24 hex digits).")]
MAX_SEARCH_LENGTH = 200


def _organization_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise OrganizationNotFound()
    return parsed


def _account_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise AccountNotFound()
    return parsed


@router.get(
    "/organizations",
    name="organizations_search",
    summary="List and search every organization",
    responses={**errors(*READS), **PAGED},
)
async def search(
    key: PlatformReader,
    platform: PlatformDep,
    page: PageQuery,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_SEARCH_LENGTH,
            description="Compared as names are (case-insensitive, whitespace normalized), "
            "always literally: no character is a pattern.",
        ),
    ] = None,
    match: Annotated[
        NameMatch, Query(description="How `name` matches: the whole name, its start, or any part.")
    ] = NameMatch.CONTAINS,
    status: Annotated[Status | None, Query()] = None,
    plan: Annotated[Plan | None, Query()] = None,
    domain: Annotated[Domain | None, Query(description="The profile's domain, exactly.")] = None,
    created_after: Annotated[
        Rfc3339Input | None, Query(description="Created at or after this time, RFC 3339.")
    ] = None,
    created_before: Annotated[
        Rfc3339Input | None, Query(description="Created before this time, RFC 3339.")
    ] = None,
) -> Page[OrganizationListed]:
    """Every organization in any state, newest first; a `prefix` or `contains` search by
    name is in name order. Walk the pages with `cursor`."""
    where = OrganizationSearch(
        default_plan=platform.default_plan,
        name=name,
        match=match,
        status=status,
        plan=plan,
        domain=domain,
        created_after=created_after,
        created_before=created_before,
    )
    listed = await platform.search(where, page.window)
    return Page.of([OrganizationListed.of(row) for row in listed.items], listed, page)


@router.post(
    "/organizations",
    name="organizations_create",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization for an existing or a new account",
    responses=errors(
        InvalidInput,
        *WRITE_ERRORS,
        AccountNotFound,
        OrganizationNameTaken,
        TenantCollectionOccupied,
        EmailAlreadyRegistered,
        CreateUndone,
    ),
)
async def create(
    body: PlatformOrganizationCreate,
    key: PlatformWriter,
    platform: PlatformDep,
    request: Request,
    response: Response,
) -> ManagedOrganizationCreated:
    """As sign-up does, without the sign-up throttle and without the existing account's
    password; the owner is admin of the default workspace."""
    owner = OwnerChoice(
        account_id=parse_object_id(body.owner_account_id) if body.owner_account_id else None,
        email=str(body.owner_email) if body.owner_email else None,
        password=body.owner_password,
    )
    # The answer is made of what the create returns: a read after it could fail and answer
    # 503 for an organization that exists.
    view = await platform.create(key, body.organization_name, owner)
    response.headers["Location"] = f"{request.url.path}/{view.organization.id}"
    return ManagedOrganizationCreated.of(view.organization, view.admin_email)


@router.get(
    "/organizations/{org_id}",
    name="organizations_read",
    summary="An organization with its statistics and owners",
    responses=errors(*READS, OrganizationNotFound),
)
async def read(
    org_id: OrganizationPath, key: PlatformReader, platform: PlatformDep
) -> ManagedOrganizationRead:
    return ManagedOrganizationRead.of(await platform.read(key, _organization_id(org_id)))


@router.post(
    "/organizations/{org_id}/members",
    name="members_add",
    status_code=status.HTTP_201_CREATED,
    summary="Add an existing account as a member, with no invitation",
    responses=errors(
        *CHANGES, AccountNotFound, AlreadyMemberOf, MemberLimitReached, OrganizationSuspended
    ),
)
async def add_member(
    org_id: OrganizationPath,
    body: MemberAdd,
    key: PlatformWriter,
    platform: PlatformDep,
    response: Response,
) -> MemberRead:
    """The plan's member limit applies (pending invitations take a seat)."""
    organization_id = _organization_id(org_id)
    account = await platform.account(
        parse_object_id(body.account_id) if body.account_id else None,
        str(body.email) if body.email else None,
    )
    view = await platform.add_member(key, organization_id, account, Role(body.role))
    response.headers["Location"] = f"/api/v1/organizations/{org_id}/members/{account.id}"
    return MemberRead.of(view)


@router.put(
    "/organizations/{org_id}/plan",
    name="plan_change",
    summary="Change the organization's plan",
    responses=errors(*CHANGES, PlanTooSmall, OrganizationSuspended),
)
async def change_plan(
    org_id: OrganizationPath, body: PlanChange, key: PlatformWriter, platform: PlatformDep
) -> BillingRead:
    """Refused when the plan's member limit is below the members plus pending invitations."""
    return BillingRead.of(await platform.change_plan(key, _organization_id(org_id), body.plan))


@router.post(
    "/organizations/{org_id}/suspend",
    name="organizations_suspend",
    summary="Suspend: reads keep working, changes are refused (423)",
    responses=errors(*CHANGES),
)
async def suspend(
    org_id: OrganizationPath, key: PlatformWriter, platform: PlatformDep
) -> ManagedOrganizationRead:
    managed = await platform.set_status(key, _organization_id(org_id), Status.SUSPENDED)
    return ManagedOrganizationRead.of(managed)


@router.post(
    "/organizations/{org_id}/reactivate",
    name="organizations_reactivate",
    summary="Lift a suspension",
    responses=errors(*CHANGES),
)
async def reactivate(
    org_id: OrganizationPath, key: PlatformWriter, platform: PlatformDep
) -> ManagedOrganizationRead:
    managed = await platform.set_status(key, _organization_id(org_id), Status.ACTIVE)
    return ManagedOrganizationRead.of(managed)


@router.delete(
    "/organizations/{org_id}",
    name="organizations_delete",
    summary="Delete: into the trash for the retention period, or for good with purge=true",
    responses=errors(*CHANGES, *LIFECYCLE),
)
async def delete(
    org_id: OrganizationPath,
    key: PlatformWriter,
    platform: PlatformDep,
    purge: Annotated[
        bool,
        Query(
            description="Delete for good at once, with no restore; purges one already in "
            "the trash too."
        ),
    ] = False,
) -> OrganizationDeleted:
    """As an owner's delete: the organization is hidden and its tokens refused at once; its
    collection waits in the trash until `purge_after` (`DELETED_RETENTION_DAYS`), restorable
    with `POST .../restore`."""
    deletion = await platform.delete(key, _organization_id(org_id), purge=purge)
    return OrganizationDeleted.of(deletion, "it can be restored")


@router.post(
    "/organizations/{org_id}/restore",
    name="organizations_restore",
    summary="Restore a deleted organization within its retention period",
    responses=errors(*CHANGES, *LIFECYCLE, OrganizationNotDeleted),
)
async def restore(
    org_id: OrganizationPath, key: PlatformWriter, platform: PlatformDep
) -> ManagedOrganizationRead:
    """Its collection comes back from the trash with every document and index, its members,
    workspaces, keys and webhook endpoints as they were; its tokens work again."""
    return ManagedOrganizationRead.of(await platform.restore(key, _organization_id(org_id)))


@router.get(
    "/accounts/lookup",
    name="accounts_find",
    summary="Find an account by email",
    responses=errors(*READS, AccountNotFound),
)
async def find_account(
    email: Annotated[Email, Query(description="Compared case-insensitively.")],
    key: PlatformReader,
    platform: PlatformDep,
) -> PlatformAccountRead:
    return PlatformAccountRead.of(await platform.account(email=str(email)))


@router.get(
    "/accounts/{account_id}",
    name="accounts_read",
    summary="An account",
    responses=errors(*READS, AccountNotFound),
)
async def read_account(
    account_id: AccountPath, key: PlatformReader, platform: PlatformDep
) -> PlatformAccountRead:
    return PlatformAccountRead.of(await platform.account(_account_id(account_id)))


@router.get(
    "/accounts/{account_id}/organizations",
    name="accounts_organizations",
    summary="An account's organizations, with its role in each",
    responses={**errors(*READS, AccountNotFound), **PAGED},
)
async def account_organizations(
    account_id: AccountPath, key: PlatformReader, platform: PlatformDep, page: PageQuery
) -> Page[AccountOrganizationRead]:
    listed = await platform.organizations_of(_account_id(account_id), page.window)
    return Page.of([AccountOrganizationRead.of(pair) for pair in listed.items], listed, page)
