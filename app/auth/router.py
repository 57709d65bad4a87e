"""`POST /admin/login`."""

from fastapi import APIRouter

from app.auth.dependencies import AuthServiceDep
from app.auth.schemas import LoginRequest, TokenResponse
from app.openapi import INVALID_INPUT, error

router = APIRouter(tags=["authentication"])


@router.post(
    "/admin/login",
    summary="Log in and get an access token",
    responses={
        **INVALID_INPUT,
        401: error("Invalid credentials: the same answer whether or not the email exists."),
    },
)
async def login(body: LoginRequest, auth: AuthServiceDep) -> TokenResponse:
    """Public. Exchange an account's email and password for a bearer token."""
    result = await auth.login(body.email, body.password)
    return TokenResponse(
        access_token=result.token.token,
        admin_id=str(result.account_id),
        org_id=str(result.organization_id),
        expires_in=result.token.lifetime_seconds,
    )
