"""Request dependencies: the auth service and the authenticated caller."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.principal import Principal
from app.auth.repository import AccountRepository
from app.auth.revocation import RevokedTokens
from app.auth.service import AuthService
from app.auth.throttle import LoginThrottle
from app.context import ContextDep
from app.errors import NotAuthenticated
from app.members.repository import MembershipRepository
from app.organizations.repository import OrganizationRepository

_bearer = HTTPBearer(auto_error=False, description="The `access_token` from `POST /admin/login`.")


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
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


def client_address(request: Request) -> str:
    """The caller's address (as uvicorn resolved it, honouring trusted proxies only)."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    auth: AuthServiceDep,
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("Not authenticated")
    principal = await auth.authenticate(credentials.credentials)
    request.state.organization_id = str(principal.organization_id)  # for the access log
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
