"""Request dependencies: the auth service and the authenticated caller."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.audit.trail import AuditTrail
from app.auth.permissions import Action, require
from app.auth.principal import Principal
from app.auth.repository import AccountRepository
from app.auth.revocation import RevokedTokens
from app.auth.service import AuthService
from app.auth.throttle import LoginThrottle
from app.context import ContextDep
from app.db.ids import parse_object_id
from app.errors import Forbidden, NotAuthenticated, NotFound
from app.members.repository import MembershipRepository
from app.organizations.repository import OrganizationRepository
from app.workspaces.access import WorkspaceAccess

bearer_credentials = HTTPBearer(
    auto_error=False, description="The `access_token` from `POST /admin/login`."
)


def get_auth_service(context: ContextDep) -> AuthService:
    store = context.store
    return AuthService(
        AccountRepository(store),
        MembershipRepository(store),
        OrganizationRepository(store),
        context.hasher,
        context.tokens,
        LoginThrottle(store, context.throttle_policy),
        RevokedTokens(store),
        context.metrics,
        AuditTrail(store),
        WorkspaceAccess(store),
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


def client_address(request: Request) -> str:
    """The caller's address (as uvicorn resolved it, honouring trusted proxies only)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)],
    auth: AuthServiceDep,
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("Not authenticated")
    principal = await auth.authenticate(credentials.credentials)
    request.state.organization_id = str(principal.organization_id)  # for the access log
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class WrongOrganization(Forbidden):
    detail = (
        "This token acts for another organization; switch to this one first "
        "(POST /api/v1/auth/switch)"
    )


def caller_allowed(action: Action) -> Callable[..., Awaitable[Principal]]:
    """A dependency for `/organizations/{org_id}/...` routes: the token must act for that
    organization, and its role must allow `action` (see `app.auth.permissions`)."""

    async def allowed_caller(
        org_id: Annotated[str, Path(description="The organization's id (24 hex digits).")],
        caller: CurrentPrincipal,
    ) -> Principal:
        if parse_object_id(org_id) is None:
            raise NotFound("Organization not found")
        if parse_object_id(org_id) != caller.organization_id:
            raise WrongOrganization()
        require(caller.role, action)
        return caller

    return allowed_caller
