"""`/api/v1/organizations`: the caller's organizations as resources."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import (
    SCOPED_ERRORS,
    ClientAddress,
    CurrentPrincipal,
    DirectoryDep,
    OrganizationEditor,
    OrganizationOwner,
    OrganizationPath,
    OrganizationsDep,
    OrganizationSuspender,
    OrganizationViewer,
    RetentionDep,
)
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import AUTHENTICATION, errors
from app.db.ids import parse_object_id
from app.errors import (
    InvalidCredentials,
    InvalidInput,
    PreconditionFailed,
    RoleNotAllowed,
    TooManyAttempts,
)
from app.kit.names import MAX_RAW_NAME_LENGTH
from app.organizations.directory import OrganizationDetails
from app.organizations.lifecycle import CreateUndone, RenameRefused
from app.organizations.retention import (
    Confirmation,
    DeletedOrganizationNotFound,
    OrganizationNotDeleted,
)
from app.organizations.schemas import OrganizationRenamed
from app.organizations.service import AccountRequired, OrganizationLimitReached
from app.organizations.v1_schemas import (
    Credentials,
    OrganizationCreated,
    OrganizationDeleted,
    OrganizationDetail,
    OrganizationNew,
    OrganizationRestored,
    OrganizationSummary,
    Profile,
    ProfileUpdate,
    RenameRequest,
    Statistics,
)
from app.registry.errors import (
    OperationInProgress,
    OrganizationBusy,
    OrganizationNameTaken,
    OrganizationSuspended,
    TenantCollectionOccupied,
)
from app.registry.models import Organization, Status
from app.registry.write_leases import TenantBusy
from app.sessions.schemas import TokenResponse

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations",
    tags=["organizations"],
    generate_unique_id_function=operation_ids("organizations"),
)

CHANGES = (*SCOPED_ERRORS, OperationInProgress, OrganizationBusy, TenantBusy)
CONDITIONAL = (PreconditionFailed,)


def _detail(details: OrganizationDetails) -> OrganizationDetail:
    organization = details.organization
    return OrganizationDetail(
        **_summary(organization, details.role).model_dump(),
        tenant_collection=organization.tenant_collection,
        tenant_database=details.tenant_database,
        profile=Profile(**details.profile),
        statistics=Statistics(
            members=details.statistics.members,
            pending_invitations=details.statistics.pending_invitations,
            tenant_documents=details.statistics.tenant_documents,
            tenant_storage_bytes=details.statistics.tenant_storage_bytes,
        ),
        created_at=organization.created_at,
        modified_at=organization.modified_at,
    )


def _summary(organization: Organization, role: str) -> OrganizationSummary:
    return OrganizationSummary(
        id=str(organization.id),
        organization_name=organization.name,
        organization_identifier=organization.identifier,
        status=organization.status.value,
        role=role,
    )


@router.get(
    "",
    name="list",
    summary="Your organizations",
    responses={**errors(InvalidInput, *AUTHENTICATION), **PAGED},
)
async def list_mine(
    caller: CurrentPrincipal,
    directory: DirectoryDep,
    page: PageQuery,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_RAW_NAME_LENGTH,
            description="Only organizations whose name contains this text, compared as names "
            "are (case-insensitively, whitespace normalized); taken as plain text, never as "
            "a pattern.",
        ),
    ] = None,
) -> Page[OrganizationSummary]:
    """Every organization your account belongs to, with your role in each, whichever one the
    token acts for."""
    listed = await directory.mine(caller, page.window, q)
    return Page.of([_summary(org, m.role) for org, m in listed.items], listed, page)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create another organization",
    responses=errors(
        InvalidInput,
        *AUTHENTICATION,
        AccountRequired,
        OrganizationNameTaken,
        OrganizationLimitReached,
        TenantCollectionOccupied,
        CreateUndone,
    ),
)
async def create(
    body: OrganizationNew,
    caller: CurrentPrincipal,
    organizations: OrganizationsDep,
    request: Request,
    response: Response,
) -> OrganizationCreated:
    """Any signed-in account, whatever its role where the token acts: the account becomes
    the new organization's owner, with its default workspace and tenant collection. At most
    `MAX_ORGANIZATIONS_PER_ACCOUNT` organizations created this way per account (`409
    organization_limit_reached`); a deleted one gives its place back."""
    founded = await organizations.create_for(caller, body.organization_name)
    organization = founded.view.organization
    response.headers["Location"] = f"{request.url.path}/{organization.id}"
    return OrganizationCreated(
        **_summary(organization, founded.login.role).model_dump(),
        tenant_collection=organization.tenant_collection,
        created_at=organization.created_at,
        token=TokenResponse.of(founded.login),
    )


@router.get(
    "/{org_id}",
    summary="An organization with its statistics",
    description=who_may(Permission.READ_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def read(caller: OrganizationViewer, directory: DirectoryDep) -> OrganizationDetail:
    return _detail(await directory.details(caller.principal, caller.organization))


@router.patch(
    "/{org_id}",
    summary="Edit the profile",
    description=who_may(Permission.EDIT_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS, OrganizationSuspended, *CONDITIONAL),
)
async def update(
    body: ProfileUpdate,
    caller: OrganizationEditor,
    directory: DirectoryDep,
) -> OrganizationDetail:
    return _detail(await directory.update_profile(caller, body.changes()))


@router.post(
    "/{org_id}/rename",
    summary="Rename (the tenant collection moves with it)",
    description=who_may(Permission.EDIT_ORGANIZATION),
    responses=errors(
        *CHANGES,
        OrganizationNameTaken,
        TenantCollectionOccupied,
        OrganizationSuspended,
        RenameRefused,
    ),
)
async def rename(
    body: RenameRequest,
    caller: OrganizationEditor,
    organizations: OrganizationsDep,
) -> OrganizationRenamed:
    return OrganizationRenamed.of(await organizations.rename_as(caller, body.organization_name))


@router.delete(
    "/{org_id}",
    summary="Delete: into the trash for the retention period, or for good with purge=true",
    description=who_may(Permission.DELETE_ORGANIZATION)
    + " The organization disappears at once (look-ups, listings, logins, its tokens), its"
    " tenant collection is renamed into the trash and its name stays reserved; an owner can"
    " restore it until `purge_after` (`DELETED_RETENTION_DAYS`). `purge=true` deletes it for"
    " good at once and takes your own `email` and `password` in the body to confirm.",
    responses=errors(
        *CHANGES,
        *CONDITIONAL,
        InvalidCredentials,
        TooManyAttempts,
        TenantCollectionOccupied,
        RenameRefused,
    ),
)
async def delete(
    caller: OrganizationOwner,
    retention: RetentionDep,
    address: ClientAddress,
    purge: Annotated[bool, Query(description="Delete for good at once, with no restore.")] = False,
    body: Credentials | None = None,
) -> OrganizationDeleted:
    confirmation = Confirmation(body.email, body.password) if body else None
    deletion = await retention.delete(
        caller, purge=purge, confirmation=confirmation, address=address
    )
    return OrganizationDeleted.of(deletion, "an owner can restore it")


@router.post(
    "/{org_id}/restore",
    summary="Restore a deleted organization within its retention period",
    description="Owners. Its tokens stopped working when it was deleted, so an owner signs"
    " the request with their own `email` and `password` (counted by the login throttle)."
    " The tenant collection comes back from the trash with every document and index;"
    " members and workspaces are as they were, and tokens that have not expired work again.",
    responses=errors(
        InvalidInput,
        InvalidCredentials,
        TooManyAttempts,
        RoleNotAllowed,
        DeletedOrganizationNotFound,
        OrganizationNotDeleted,
        OperationInProgress,
        TenantCollectionOccupied,
        RenameRefused,
    ),
)
async def restore(
    org_id: OrganizationPath,
    body: Credentials,
    retention: RetentionDep,
    address: ClientAddress,
) -> OrganizationRestored:
    organization_id = parse_object_id(org_id)
    if organization_id is None:
        raise DeletedOrganizationNotFound()
    organization, trash = await retention.restore(
        organization_id, body.email, body.password, address
    )
    return OrganizationRestored(
        id=str(organization.id),
        organization_name=organization.name,
        organization_identifier=organization.identifier,
        tenant_collection=organization.tenant_collection,
        deleted_at=trash.deleted_at,
        restored_at=organization.modified_at,
    )


@router.post(
    "/{org_id}/suspend",
    summary="Suspend: reads keep working, changes are refused (423)",
    description=who_may(Permission.SUSPEND_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def suspend(
    caller: OrganizationSuspender,
    directory: DirectoryDep,
) -> OrganizationDetail:
    return _detail(await directory.set_status(caller, Status.SUSPENDED))


@router.post(
    "/{org_id}/reactivate",
    summary="Lift a suspension",
    description=who_may(Permission.SUSPEND_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def reactivate(
    caller: OrganizationSuspender,
    directory: DirectoryDep,
) -> OrganizationDetail:
    return _detail(await directory.set_status(caller, Status.ACTIVE))
