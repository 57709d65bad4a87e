"""Request dependencies, as aliases that read like prose in handler signatures.

Services come from the lifespan's state (`app.api.state`), built once per app. The caller
comes from the bearer token; `caller_allowed` adds the organization in the path and the
roles table.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Annotated, cast

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access.keys import looks_like_key, parse_key
from app.access.permissions import Permission, require
from app.access.principal import Principal
from app.api.responses import AUTHENTICATION
from app.api.state import Services
from app.apikeys.service import ApiKeyNotAllowed, ApiKeyService
from app.audit.trail import AuditTrail
from app.billing.service import BillingService
from app.db.ids import parse_object_id
from app.documents.service import DocumentService
from app.domains.joining import JoinService
from app.domains.service import DomainService
from app.email_verification.service import EmailVerificationService
from app.errors import AppError, Forbidden, InvalidInput, NotAuthenticated, RoleNotAllowed
from app.events.service import EventService
from app.invitations.service import InvitationService
from app.members.service import MemberService
from app.organizations.directory import OrganizationDirectory
from app.organizations.retention import Retention
from app.organizations.service import OrganizationService
from app.platform.administration import PlatformAdministration
from app.platform.service import PlatformKeys
from app.registry.errors import OrganizationNotFound
from app.roles.service import RoleService
from app.sessions.caller import Caller
from app.sessions.service import NotAMember, SessionService
from app.webhooks.service import WebhookService
from app.workspaces.service import WorkspaceService

bearer_credentials = HTTPBearer(
    auto_error=False, description="The `access_token` from `POST /admin/login`."
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)]


def _services(request: Request) -> Services:
    return cast(Services, request.state.services)


# Each getter, and each check below, reads the services off the request itself rather than
# depending on another getter: FastAPI solves every dependency of the tree on every request,
# cached or not, so each level saved is saved on every call.
async def get_services(request: Request) -> Services:
    return _services(request)


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_sessions(request: Request) -> SessionService:
    return _services(request).sessions


async def get_organizations(request: Request) -> OrganizationService:
    return _services(request).organizations


async def get_directory(request: Request) -> OrganizationDirectory:
    return _services(request).directory


async def get_retention(request: Request) -> Retention:
    return _services(request).retention


async def get_members(request: Request) -> MemberService:
    return _services(request).members


async def get_invitations(request: Request) -> InvitationService:
    return _services(request).invitations


async def get_billing(request: Request) -> BillingService:
    return _services(request).billing


async def get_workspaces(request: Request) -> WorkspaceService:
    return _services(request).workspaces


async def get_documents(request: Request) -> DocumentService:
    return _services(request).documents


async def get_audit(request: Request) -> AuditTrail:
    return _services(request).audit


async def get_api_keys(request: Request) -> ApiKeyService:
    return _services(request).api_keys


async def get_roles(request: Request) -> RoleService:
    return _services(request).roles


async def get_events(request: Request) -> EventService:
    return _services(request).events


async def get_webhooks(request: Request) -> WebhookService:
    return _services(request).webhooks


async def get_email_verification(request: Request) -> EmailVerificationService:
    return _services(request).email_verification


async def get_domains(request: Request) -> DomainService:
    return _services(request).domains


async def get_joining(request: Request) -> JoinService:
    return _services(request).joining


SessionsDep = Annotated[SessionService, Depends(get_sessions)]
DomainsDep = Annotated[DomainService, Depends(get_domains)]
JoiningDep = Annotated[JoinService, Depends(get_joining)]
EmailVerificationDep = Annotated[EmailVerificationService, Depends(get_email_verification)]
OrganizationsDep = Annotated[OrganizationService, Depends(get_organizations)]
DirectoryDep = Annotated[OrganizationDirectory, Depends(get_directory)]
RetentionDep = Annotated[Retention, Depends(get_retention)]
MembersDep = Annotated[MemberService, Depends(get_members)]
InvitationsDep = Annotated[InvitationService, Depends(get_invitations)]
BillingDep = Annotated[BillingService, Depends(get_billing)]
WorkspacesDep = Annotated[WorkspaceService, Depends(get_workspaces)]
DocumentsDep = Annotated[DocumentService, Depends(get_documents)]
AuditDep = Annotated[AuditTrail, Depends(get_audit)]
ApiKeysDep = Annotated[ApiKeyService, Depends(get_api_keys)]
EventsDep = Annotated[EventService, Depends(get_events)]
RolesDep = Annotated[RoleService, Depends(get_roles)]
WebhooksDep = Annotated[WebhookService, Depends(get_webhooks)]


async def client_address(request: Request) -> str:
    """The caller's address (as uvicorn resolved it, honouring trusted proxies only)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def _authenticated(credential: str, sessions: SessionService, keys: ApiKeyService) -> Caller:
    """The caller a bearer credential stands for: an organization API key (`tko_...`) or
    a signed-in account's token."""
    if looks_like_key(credential):
        presented = parse_key(credential)
        if presented is None:
            raise NotAuthenticated()
        return await keys.authenticate(presented)
    return await sessions.authenticate(credential)


async def optional_caller(request: Request, credentials: BearerCredentials) -> Caller | None:
    """The caller when a bearer token or API key was sent (and is valid), None when none
    was. FastAPI runs it once per request, however many dependencies ask for it."""
    if credentials is None:
        return None
    services = _services(request)
    caller = await _authenticated(credentials.credentials, services.sessions, services.api_keys)
    request.state.organization_id = str(caller.organization.id)  # for the access log
    return caller


def _person(caller: Caller | None) -> Caller | None:
    """API keys act for organizations, not accounts."""
    if caller is not None and caller.principal.is_key:
        raise ApiKeyNotAllowed()
    return caller


async def optional_principal(
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Principal | None:
    """A signed-in person, if one calls."""
    person = _person(caller)
    return person.principal if person else None


async def current_caller(
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Caller:
    """A signed-in person with what the token's check read (never an API key)."""
    person = _person(caller)
    if person is None:
        raise NotAuthenticated("Not authenticated")
    return person


async def current_principal(
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Principal:
    return (await current_caller(caller)).principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def signed_in_caller(
    caller: Annotated[Caller | None, Depends(optional_caller)],
) -> Caller:
    """Whoever calls with a valid token or organization API key."""
    if caller is None:
        raise NotAuthenticated("Not authenticated")
    return caller


SignedInCaller = Annotated[Caller, Depends(signed_in_caller)]

# A signed-in person, with what the token's check read about the account.
CurrentAccount = Annotated[Caller, Depends(current_caller)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


class WrongOrganization(Forbidden):
    """For an organization the caller is a member of; others answer `NotAMember`."""

    code = "token_for_other_organization"
    detail = (
        "This token acts for another organization; switch to this one first "
        "(POST /api/v1/auth/switch)"
    )


OrganizationPath = Annotated[str, Path(description="The organization's id (24 hex digits).")]


async def _check_scope(
    caller: Caller, org_id: str, action: Permission, sessions: SessionService
) -> Caller:
    """The token must act for the organization in the path, and its role allow `action`
    (see `app.access.permissions`)."""
    organization_id = parse_object_id(org_id)
    if organization_id is None:
        raise OrganizationNotFound()
    principal = caller.principal
    if organization_id != principal.organization_id:
        # Hint at switching only where a switch would work; otherwise the caller learns
        # no more than for an organization that does not exist.
        if await sessions.may_switch_to(principal, organization_id):
            raise WrongOrganization()
        raise NotAMember()
    require(principal, action)
    return caller


def caller_allowed(action: Permission) -> Callable[..., Awaitable[Caller]]:
    """A dependency for `/organizations/{org_id}/...` routes: the caller, if the token acts
    for that organization and its role allows `action`."""

    async def allowed_caller(
        request: Request,
        org_id: OrganizationPath,
        caller: Annotated[Caller | None, Depends(optional_caller)],
    ) -> Caller:
        if caller is None:
            raise NotAuthenticated("Not authenticated")
        return await _check_scope(caller, org_id, action, _services(request).sessions)

    return allowed_caller


def principal_allowed(action: Permission) -> Callable[..., Awaitable[Principal]]:
    """The same, for routes that need only who calls."""
    allowed_caller = caller_allowed(action)

    async def allowed_principal(
        request: Request,
        org_id: OrganizationPath,
        caller: Annotated[Caller | None, Depends(optional_caller)],
    ) -> Principal:
        return (await allowed_caller(request, org_id, caller)).principal

    return allowed_principal


async def leased_writer(
    request: Request, org_id: OrganizationPath, credentials: BearerCredentials
) -> AsyncIterator[Caller]:
    """A document writer, checked while it holds its organization's write lease.

    A write must see any rename that began before it (see `app.registry.write_leases`): the
    lease is taken first, for the organization the token names, so the check's one read of
    the registry entry is the read after the lease, and the write needs no other. A token
    for another organization is checked without a lease, and refused.
    """
    if credentials is None:
        raise NotAuthenticated("Not authenticated")
    services = _services(request)
    sessions, keys, documents = services.sessions, services.api_keys, services.documents
    if looks_like_key(credentials.credentials):
        # A key names its organization only in the database: checked first, it writes
        # under a lease of its own (`DocumentService._writing`).
        caller = await _authenticated(credentials.credentials, sessions, keys)
        yield await _check_scope(caller, org_id, Permission.WRITE_TENANT_DOCUMENTS, sessions)
        return
    claims = sessions.read_token(credentials.credentials)
    if claims.organization_id != parse_object_id(org_id):
        caller = await sessions.check(claims)
        yield await _check_scope(caller, org_id, Permission.WRITE_TENANT_DOCUMENTS, sessions)
        return
    async with documents.lease(claims.organization_id):
        caller = await sessions.check(claims)
        await _check_scope(caller, org_id, Permission.WRITE_TENANT_DOCUMENTS, sessions)
        yield replace(caller, leased=True)


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
OrganizationReader = Annotated[Principal, Depends(principal_allowed(Permission.READ_ORGANIZATION))]
OrganizationEditor = Annotated[Principal, Depends(principal_allowed(Permission.EDIT_ORGANIZATION))]
OrganizationOwner = Annotated[Principal, Depends(principal_allowed(Permission.DELETE_ORGANIZATION))]
OrganizationSuspender = Annotated[
    Principal, Depends(principal_allowed(Permission.SUSPEND_ORGANIZATION))
]
BillingReader = Annotated[Principal, Depends(principal_allowed(Permission.READ_BILLING))]
BillingEditor = Annotated[Principal, Depends(principal_allowed(Permission.EDIT_BILLING))]
AuditReader = Annotated[Principal, Depends(principal_allowed(Permission.READ_AUDIT_LOG))]
MemberManager = Annotated[Principal, Depends(principal_allowed(Permission.MANAGE_MEMBERS))]
# Those that go on with what the token's check read (the organization's entry, the workspace).
OrganizationViewer = Annotated[Caller, Depends(caller_allowed(Permission.READ_ORGANIZATION))]
DocumentReader = Annotated[Caller, Depends(caller_allowed(Permission.READ_TENANT_DOCUMENTS))]
# The lease is let go as the handler returns, before the response is sent.
DocumentWriter = Annotated[Caller, Depends(leased_writer, scope="function")]


async def get_platform_keys(request: Request) -> PlatformKeys:
    return _services(request).platform_keys


async def get_platform(request: Request) -> PlatformAdministration:
    return _services(request).platform


PlatformKeysDep = Annotated[PlatformKeys, Depends(get_platform_keys)]
PlatformDep = Annotated[PlatformAdministration, Depends(get_platform)]
EventReader = Annotated[Principal, Depends(principal_allowed(Permission.READ_EVENTS))]
WebhookManager = Annotated[Principal, Depends(principal_allowed(Permission.MANAGE_WEBHOOKS))]
