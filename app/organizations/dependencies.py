"""Request dependency: the organization service."""

from typing import Annotated

from fastapi import Depends

from app.audit.trail import AuditTrail
from app.auth.dependencies import AuthServiceDep
from app.context import ContextDep
from app.organizations.lifecycle import build_lifecycle
from app.organizations.service import OrganizationService


def get_organization_service(context: ContextDep, auth: AuthServiceDep) -> OrganizationService:
    lifecycle = build_lifecycle(context.store, context.settings, context.checkpoint)
    return OrganizationService(
        lifecycle,
        context.hasher,
        auth,
        context.metrics,
        AuditTrail(context.store),
        context.placement,
    )


OrganizationServiceDep = Annotated[OrganizationService, Depends(get_organization_service)]
