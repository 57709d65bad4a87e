"""`/api/v1/organizations`: the caller's organizations as resources."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.access.permissions import Action, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import (
    SCOPED_ERRORS,
    CurrentPrincipal,
    DirectoryDep,
    OrganizationEditor,
    OrganizationOwner,
    OrganizationsDep,
    OrganizationSuspender,
    OrganizationViewer,
)
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import AUTHENTICATION, Message, errors
from app.errors import InvalidInput, PreconditionFailed
from app.kit.names import MAX_RAW_NAME_LENGTH
from app.organizations.directory import OrganizationDetails
from app.organizations.lifecycle import CreateUndone, RenameRefused
from app.organizations.schemas import OrganizationRenamed
from app.organizations.service import AccountRequired, OrganizationLimitReached
from app.organizations.v1_schemas import (
    OrganizationCreated,
    OrganizationDetail,
    OrganizationNew,
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
    return Page.of([_summary(org, m.role.value) for org, m in listed.items], listed, page)


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
    description=who_may(Action.READ_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def read(caller: OrganizationViewer, directory: DirectoryDep) -> OrganizationDetail:
    return _detail(await directory.details(caller.principal, caller.organization))


@router.patch(
    "/{org_id}",
    summary="Edit the profile",
    description=who_may(Action.EDIT_ORGANIZATION),
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
    description=who_may(Action.EDIT_ORGANIZATION),
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
    summary="Delete with all its data",
    description=who_may(Action.DELETE_ORGANIZATION),
    responses=errors(*CHANGES, *CONDITIONAL),
)
async def delete(
    caller: OrganizationOwner,
    organizations: OrganizationsDep,
) -> Message:
    await organizations.delete_by_id(caller)
    return Message(message="Organization and all associated data have been deleted")


@router.post(
    "/{org_id}/suspend",
    summary="Suspend: reads keep working, changes are refused (423)",
    description=who_may(Action.SUSPEND_ORGANIZATION),
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
    description=who_may(Action.SUSPEND_ORGANIZATION),
    responses=errors(*SCOPED_ERRORS),
)
async def reactivate(
    caller: OrganizationSuspender,
    directory: DirectoryDep,
) -> OrganizationDetail:
    return _detail(await directory.set_status(caller, Status.ACTIVE))
