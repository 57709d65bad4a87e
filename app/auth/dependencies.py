"""Request dependencies: the auth service and the authenticated caller."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.principal import Principal
from app.auth.repository import AccountRepository
from app.auth.service import AuthService
from app.context import ContextDep
from app.errors import NotAuthenticated
from app.organizations.repository import OrganizationRepository

_bearer = HTTPBearer(auto_error=False, description="The `access_token` from `POST /admin/login`.")


def get_auth_service(context: ContextDep) -> AuthService:
    return AuthService(
        AccountRepository(context.store),
        OrganizationRepository(context.store),
        context.hasher,
        context.tokens,
    )


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def current_principal(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    auth: AuthServiceDep,
) -> Principal:
    if credentials is None:
        raise NotAuthenticated("Not authenticated")
    return await auth.authenticate(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
