"""The organization endpoints of the compatibility contract."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.bodies import CheckedBodyRoute
from app.api.deps import ClientAddress, CurrentPrincipal, OrganizationsDep
from app.api.openapi import operation_ids
from app.api.responses import AUTHENTICATION, Message, contract_errors
from app.errors import InvalidCredentials, InvalidInput, RoleNotAllowed, TooManyAttempts
from app.organizations.lifecycle import CreateUndone, RenameRefused
from app.organizations.schemas import (
    NameLookup,
    OrganizationCreate,
    OrganizationDelete,
    OrganizationRead,
    OrganizationRenamed,
    OrganizationUpdate,
)
from app.organizations.signups import TooManySignups
from app.registry.errors import (
    ExistingAccountPasswordMismatch,
    NotYourOrganization,
    OperationInProgress,
    OrganizationBusy,
    OrganizationNameTaken,
    OrganizationNotFound,
    OrganizationSuspended,
    TenantCollectionOccupied,
)
from app.registry.write_leases import TenantBusy

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/org",
    tags=["organizations"],
    generate_unique_id_function=operation_ids("org"),
)


@router.post(
    "/create",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization (sign-up)",
    responses=contract_errors(
        InvalidInput,
        OrganizationNameTaken,
        ExistingAccountPasswordMismatch,
        TenantCollectionOccupied,
        TooManyAttempts,
        TooManySignups,
        CreateUndone,
    ),
)
async def create(
    body: OrganizationCreate,
    organizations: OrganizationsDep,
    address: ClientAddress,
    response: Response,
) -> OrganizationRead:
    """Public. Creates the organization, its owner, and its empty tenant collection.

    With the email of an existing account, `password` must be that account's password: the
    account becomes owner of the new organization as well.
    """
    view = await organizations.create(body.organization_name, body.email, body.password, address)
    created = OrganizationRead.of(view)
    response.headers["Location"] = f"/api/v1/organizations/{created.id}"
    return created


@router.get(
    "/get",
    summary="Look an organization up by name",
    responses=contract_errors(InvalidInput, OrganizationNotFound),
)
async def get(
    organization_name: Annotated[NameLookup, Query()], organizations: OrganizationsDep
) -> OrganizationRead:
    """Public. The match is exact but ignores case and repeated whitespace."""
    return OrganizationRead.of(await organizations.get_by_name(organization_name))


@router.put(
    "/update",
    summary="Rename the caller's organization",
    responses=contract_errors(
        InvalidInput,
        *AUTHENTICATION,
        InvalidCredentials,
        RoleNotAllowed,
        OrganizationNotFound,
        OrganizationNameTaken,
        OperationInProgress,
        TenantCollectionOccupied,
        OrganizationSuspended,
        TooManyAttempts,
        RenameRefused,
        OrganizationBusy,
        TenantBusy,
    ),
)
async def update(
    body: OrganizationUpdate,
    caller: CurrentPrincipal,
    organizations: OrganizationsDep,
    address: ClientAddress,
) -> OrganizationRenamed:
    """Owner or admin. `email` and `password` must be the caller's own (step-up check).

    The tenant collection moves to the name derived from the new identifier, keeping every
    document, `_id` and index.
    """
    outcome = await organizations.rename(
        caller, body.organization_name, body.email, body.password, address
    )
    return OrganizationRenamed.of(outcome)


@router.delete(
    "/delete",
    summary="Delete the caller's organization and all its data",
    responses=contract_errors(
        InvalidInput,
        *AUTHENTICATION,
        NotYourOrganization,
        RoleNotAllowed,
        OrganizationNotFound,
        OperationInProgress,
        OrganizationBusy,
        TenantBusy,
    ),
)
async def delete(
    body: OrganizationDelete, caller: CurrentPrincipal, organizations: OrganizationsDep
) -> Message:
    """Owner only. Removes the registry entry, its accounts and its tenant collection."""
    await organizations.delete(caller, body.organization_name)
    return Message(message="Organization and all associated data have been deleted")
