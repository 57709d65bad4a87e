"""The organization endpoints of the compatibility contract."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import ClientAddress, CurrentPrincipal, OrganizationsDep
from app.api.responses import INVALID_INPUT, UNAUTHENTICATED, Message, error
from app.organizations.schemas import (
    NameLookup,
    OrganizationCreate,
    OrganizationDelete,
    OrganizationRead,
    OrganizationRenamed,
    OrganizationUpdate,
)

router = APIRouter(prefix="/org", tags=["organizations"])


@router.post(
    "/create",
    status_code=status.HTTP_201_CREATED,
    summary="Create an organization (sign-up)",
    responses={
        **INVALID_INPUT,
        409: error(
            "An organization with that name (or identifier) exists, or the email belongs to "
            "an account whose password was not given."
        ),
    },
)
async def create_organization(
    body: OrganizationCreate, organizations: OrganizationsDep, address: ClientAddress
) -> OrganizationRead:
    """Public. Creates the organization, its owner, and its empty tenant collection.

    With the email of an existing account, `password` must be that account's password: the
    account becomes owner of the new organization as well.
    """
    view = await organizations.create(body.organization_name, body.email, body.password, address)
    return OrganizationRead.of(view)


@router.get(
    "/get",
    summary="Look an organization up by name",
    responses={**INVALID_INPUT, 404: error("No such organization.")},
)
async def get_organization(
    organization_name: Annotated[NameLookup, Query()], organizations: OrganizationsDep
) -> OrganizationRead:
    """Public. The match is exact but ignores case and repeated whitespace."""
    return OrganizationRead.of(await organizations.get_by_name(organization_name))


@router.put(
    "/update",
    summary="Rename the caller's organization",
    responses={
        **INVALID_INPUT,
        **UNAUTHENTICATED,
        403: error("The caller's role may not rename the organization."),
        404: error("The organization no longer exists."),
        409: error("The new name is in use, or another change is in progress."),
        423: error("The organization is suspended."),
        429: error("Too many failed confirmations; see `Retry-After`."),
    },
)
async def rename_organization(
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
    responses={
        **INVALID_INPUT,
        **UNAUTHENTICATED,
        403: error("The organization is not the token's, or the caller is not its owner."),
        404: error("No such organization."),
        409: error("Another change to the organization is in progress."),
    },
)
async def delete_organization(
    body: OrganizationDelete, caller: CurrentPrincipal, organizations: OrganizationsDep
) -> Message:
    """Owner only. Removes the registry entry, its accounts and its tenant collection."""
    await organizations.delete(caller, body.organization_name)
    return Message(message="Organization and all associated data have been deleted")
