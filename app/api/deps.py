"""Request dependencies, as aliases that read like prose in handler signatures.

Services come from the lifespan's state (`app.api.state`), built once per app. The caller
comes from the bearer token; `caller_allowed` adds the organization in the path and the
roles table.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access.permissions import Action, require
from app.access.principal import Principal
from app.api.responses import AUTHENTICATION
from app.api.state import Services
from app.audit.trail import AuditTrail
from app.billing.service import BillingService
from app.db.ids import parse_object_id
from app.documents.service import DocumentService
from app.errors import AppError, Forbidden, InvalidInput, NotAuthenticated, RoleNotAllowed
from app.events.service import EventService
from app.invitations.service import InvitationService
from app.members.service import MemberService
from app.organizations.directory import OrganizationDirectory
from app.organizations.service import OrganizationService
from app.registry.errors import OrganizationNotFound
from app.sessions.service import NotAMember, SessionService
from app.webhooks.service import WebhookService
from app.workspaces.service import WorkspaceService

bearer_credentials = HTTPBearer(
    auto_error=False, description="The `access_token` from `POST /admin/login`."
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)]


async def get_services(request: Request) -> Services:
    return cast(Services, request.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_sessions(services: ServicesDep) -> SessionService:
    return services.sessions


async def get_organizations(services: ServicesDep) -> OrganizationService:
    return services.organizations


async def get_directory(services: ServicesDep) -> OrganizationDirectory:
    return services.directory


async def get_members(services: ServicesDep) -> MemberService:
    return services.members


async def get_invitations(services: ServicesDep) -> InvitationService:
    return services.invitations


async def get_billing(services: ServicesDep) -> BillingService:
    return services.billing


async def get_workspaces(services: ServicesDep) -> WorkspaceService:
    return services.workspaces


async def get_documents(services: ServicesDep) -> DocumentService:
    return services.documents


async def get_audit(services: ServicesDep) -> AuditTrail:
    return services.audit


async def get_events(services: ServicesDep) -> EventService:
    return services.events


async def get_webhooks(services: ServicesDep) -> WebhookService:
    return services.webhooks


SessionsDep = Annotated[SessionService, Depends(get_sessions)]
OrganizationsDep = Annotated[OrganizationService, Depends(get_organizations)]
DirectoryDep = Annotated[OrganizationDirectory, Depends(get_directory)]
MembersDep = Annotated[MemberService, Depends(get_members)]
InvitationsDep = Annotated[InvitationService, Depends(get_invitations)]
BillingDep = Annotated[BillingService, Depends(get_billing)]
WorkspacesDep = Annotated[WorkspaceService, Depends(get_workspaces)]
DocumentsDep = Annotated[DocumentService, Depends(get_documents)]
AuditDep = Annotated[AuditTrail, Depends(get_audit)]
EventsDep = Annotated[EventService, Depends(get_events)]
WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]


async def client_address(request: Request) -> str:
    """The caller's address (as uvicorn resolved it, honouring trusted proxies only)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def optional_principal(
    request: Request, credentials: BearerCredentials, sessions: SessionsDep
) -> Principal | None:
    """The caller when a bearer token was sent (and is valid), None when none was."""
    if credentials is None:
        return None
    principal = await sessions.authenticate(credentials.credentials)
    request.state.organization_id = str(principal.organization_id)  # for the access log
    return principal


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise NotAuthenticated("Not authenticated")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


class WrongOrganization(Forbidden):
    """For an organization the caller is a member of; others answer `NotAMember`."""

    code = "token_for_other_organization"
    detail = (
        "This token acts for another organization; switch to this one first "
        "(POST /api/v1/auth/switch)"
    )


def caller_allowed(action: Action) -> Callable[..., Awaitable[Principal]]:
    """A dependency for `/organizations/{org_id}/...` routes: the token must act for that
    organization, and its role must allow `action` (see `app.access.permissions`)."""

    async def allowed_caller(
        org_id: Annotated[str, Path(description="The organization's id (24 hex digits).")],
        caller: CurrentPrincipal,
        sessions: SessionsDep,
    ) -> Principal:
        organization_id = parse_object_id(org_id)
        if organization_id is None:
            raise OrganizationNotFound()
        if organization_id != caller.organization_id:
            # Hint at switching only where a switch would work; otherwise the caller learns
            # no more than for an organization that does not exist.
            if await sessions.may_switch_to(caller, organization_id):
                raise WrongOrganization()
            raise NotAMember()
        require(caller.role, action)
        return caller

    return allowed_caller


# What the organization-scoped routes answer before the handler runs.
SCOPED_ERRORS: tuple[type[AppError], ...] = (
    InvalidInput,
    *AUTHENTICATION,
    WrongOrganization,
    NotAMember,
    RoleNotAllowed,
    OrganizationNotFound,
)

# Who may call the organization-scoped routes, declared once for every router.
OrganizationReader = Annotated[Principal, Depends(caller_allowed(Action.READ_ORGANIZATION))]
OrganizationEditor = Annotated[Principal, Depends(caller_allowed(Action.EDIT_ORGANIZATION))]
OrganizationOwner = Annotated[Principal, Depends(caller_allowed(Action.DELETE_ORGANIZATION))]
OrganizationSuspender = Annotated[Principal, Depends(caller_allowed(Action.SUSPEND_ORGANIZATION))]
BillingReader = Annotated[Principal, Depends(caller_allowed(Action.READ_BILLING))]
BillingEditor = Annotated[Principal, Depends(caller_allowed(Action.EDIT_BILLING))]
DocumentReader = Annotated[Principal, Depends(caller_allowed(Action.READ_TENANT_DOCUMENTS))]
DocumentWriter = Annotated[Principal, Depends(caller_allowed(Action.WRITE_TENANT_DOCUMENTS))]
AuditReader = Annotated[Principal, Depends(caller_allowed(Action.READ_AUDIT_LOG))]
EventReader = Annotated[Principal, Depends(caller_allowed(Action.READ_EVENTS))]
WebhookManager = Annotated[Principal, Depends(caller_allowed(Action.MANAGE_WEBHOOKS))]
