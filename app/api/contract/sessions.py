"""`POST /admin/login`, and logging out."""

from fastapi import APIRouter

from app.api.bodies import CheckedBodyRoute
from app.api.deps import ClientAddress, CurrentPrincipal, SessionsDep
from app.api.openapi import operation_ids
from app.api.responses import AUTHENTICATION, Message, contract_errors
from app.errors import InvalidCredentials, InvalidInput, TooManyAttempts
from app.sessions.schemas import CallerRead, LoginRequest, TokenResponse
from app.sessions.service import AccountWithoutOrganization

router = APIRouter(
    route_class=CheckedBodyRoute,
    tags=["authentication"],
    generate_unique_id_function=operation_ids("admin"),
)


@router.post(
    "/admin/login",
    summary="Log in and get an access token",
    responses=contract_errors(
        InvalidInput, InvalidCredentials, AccountWithoutOrganization, TooManyAttempts
    ),
)
async def login(body: LoginRequest, auth: SessionsDep, address: ClientAddress) -> TokenResponse:
    """Public. Exchange an account's email and password for a bearer token."""
    return TokenResponse.of(await auth.login(body.email, body.password, address))


@router.post(
    "/admin/logout",
    summary="Revoke the token used for this call",
    responses=contract_errors(*AUTHENTICATION),
)
async def logout(caller: CurrentPrincipal, auth: SessionsDep) -> Message:
    """Any signed-in caller. The token is refused from now on; others stay valid."""
    await auth.logout(caller)
    return Message(message="Logged out")


@router.post(
    "/admin/logout-all",
    summary="Revoke every token of the caller's account",
    name="logout_all",
    responses=contract_errors(*AUTHENTICATION),
)
async def logout_everywhere(caller: CurrentPrincipal, auth: SessionsDep) -> Message:
    """Any signed-in caller. Every token issued to the account so far is refused from now on."""
    await auth.logout_everywhere(caller)
    return Message(message="Logged out everywhere")


@router.get(
    "/admin/me", summary="Who the token belongs to", responses=contract_errors(*AUTHENTICATION)
)
async def me(caller: CurrentPrincipal) -> CallerRead:
    """Any signed-in caller. The account and organization the token acts for, and the role."""
    return CallerRead(
        admin_id=str(caller.account_id),
        org_id=str(caller.organization_id),
        email=caller.email,
        role=caller.role,
    )
