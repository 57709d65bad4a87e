"""`/api/v1/auth`: logging in to a chosen organization, switching, who am I, password."""

from bson import ObjectId
from fastapi import APIRouter

from app.api.deps import ClientAddress, CurrentPrincipal, DirectoryDep, SessionsDep
from app.api.responses import INVALID_INPUT, UNAUTHENTICATED, Message, error
from app.sessions.schemas import (
    AccountRead,
    MembershipRead,
    OrganizationLogin,
    PasswordChange,
    SwitchRequest,
    TokenResponse,
    WorkspaceMembershipRead,
)

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])


@router.post(
    "/login",
    summary="Log in, optionally to a given organization",
    responses={
        **INVALID_INPUT,
        401: error("Invalid credentials."),
        403: error("The account is not a member of that organization."),
        429: error("Too many failed attempts; see `Retry-After`."),
    },
)
async def login(
    body: OrganizationLogin, auth: SessionsDep, address: ClientAddress
) -> TokenResponse:
    """Public. Like `POST /admin/login`, with a choice of organization."""
    organization = ObjectId(body.organization_id) if body.organization_id else None
    return TokenResponse.of(await auth.login(body.email, body.password, address, organization))


@router.post(
    "/switch",
    summary="Get a token for another of your organizations",
    responses={
        **INVALID_INPUT,
        **UNAUTHENTICATED,
        403: error("Not a member of that organization."),
    },
)
async def switch(body: SwitchRequest, caller: CurrentPrincipal, auth: SessionsDep) -> TokenResponse:
    """Any signed-in caller. The current token stays valid."""
    workspace = ObjectId(body.workspace_id) if body.workspace_id else None
    return TokenResponse.of(await auth.switch(caller, ObjectId(body.organization_id), workspace))


@router.get("/me", summary="Your account and memberships", responses=UNAUTHENTICATED)
async def me(caller: CurrentPrincipal, directory: DirectoryDep) -> AccountRead:
    """Any signed-in caller."""
    memberships = await directory.memberships_of(caller)
    return AccountRead(
        account_id=str(caller.account_id),
        email=caller.email,
        organization_id=str(caller.organization_id),
        role=caller.role.value,
        workspace_id=str(caller.workspace_id) if caller.workspace_id else None,
        memberships=[
            MembershipRead(
                organization_id=str(org.id),
                organization_name=org.name,
                role=role,
                workspaces=[
                    WorkspaceMembershipRead(workspace_id=str(w.id), name=w.name, role=ws_role)
                    for w, ws_role in workspaces
                ],
            )
            for org, role, workspaces in memberships
        ],
    )


@router.post(
    "/password",
    summary="Change your password",
    responses={
        **INVALID_INPUT,
        401: error("Missing token or wrong current password."),
        429: error("Too many failed attempts; see `Retry-After`."),
    },
)
async def change_password(
    body: PasswordChange, caller: CurrentPrincipal, auth: SessionsDep, address: ClientAddress
) -> Message:
    """Any signed-in caller. Every token issued to the account before, this one included,
    stops working: log in again."""
    await auth.change_password(caller, body.current_password, body.new_password, address)
    return Message(message="Password changed; log in again")
