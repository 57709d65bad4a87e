"""Request dependency: the organization service."""

from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import AuthServiceDep
from app.auth.repository import AccountRepository
from app.context import ContextDep
from app.organizations.repository import IdentifierClaims, OrganizationRepository
from app.organizations.service import OrganizationService
from app.organizations.tenants import TenantCollections


def get_organization_service(context: ContextDep, auth: AuthServiceDep) -> OrganizationService:
    store = context.store
    return OrganizationService(
        OrganizationRepository(store),
        IdentifierClaims(store),
        AccountRepository(store),
        TenantCollections(store),
        context.hasher,
        auth,
    )


OrganizationServiceDep = Annotated[OrganizationService, Depends(get_organization_service)]
