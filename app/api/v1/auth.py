"""`/api/v1/auth`: logging in to a chosen organization, switching, who am I, password."""

from bson import ObjectId
from fastapi import APIRouter, status

from app.api.bodies import CheckedBodyRoute
from app.api.deps import (
    ClientAddress,
    CurrentAccount,
    CurrentPrincipal,
    DirectoryDep,
    EmailVerificationDep,
    SessionsDep,
)
from app.api.openapi import operation_ids
from app.api.responses import AUTHENTICATION, Message, errors
from app.apikeys.service import ApiKeyNotAllowed
from app.email_verification.service import (
    EmailAlreadyVerified,
    VerificationEmailNotSent,
    VerificationLinkInvalid,
    VerificationRequestsThrottled,
)
from app.errors import InvalidCredentials, InvalidInput, TooManyAttempts
from app.sessions.schemas import (
    AccountRead,
    EmailVerifiedRead,
    MembershipRead,
    OrganizationLogin,
    PasswordChange,
    SwitchRequest,
    TokenResponse,
    VerificationConfirm,
    VerificationSentRead,
    WorkspaceMembershipRead,
)
from app.sessions.service import (
    AccountWithoutOrganization,
    NotAMember,
    WorkspaceArchived,
    WrongCurrentPassword,
)
from app.workspaces.access import NotAWorkspaceMember, WorkspaceNotFound

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/auth",
    tags=["authentication"],
    generate_unique_id_function=operation_ids("auth"),
)


@router.post(
    "/login",
    summary="Log in, optionally to a given organization",
    responses=errors(
        InvalidInput, InvalidCredentials, AccountWithoutOrganization, NotAMember, TooManyAttempts
    ),
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
    responses=errors(
        InvalidInput,
        *AUTHENTICATION,
        NotAMember,
        NotAWorkspaceMember,
        WorkspaceNotFound,
        WorkspaceArchived,
    ),
)
async def switch(body: SwitchRequest, caller: CurrentPrincipal, auth: SessionsDep) -> TokenResponse:
    """Any signed-in caller. The current token stays valid. An organization the caller is
    not a member of is a `403`, whether or not it exists; within one, a workspace that does
    not exist there is a `404`, one the caller is not a member of a `403`, as they are for
    `GET .../workspaces/{workspace_id}`."""
    workspace = ObjectId(body.workspace_id) if body.workspace_id else None
    return TokenResponse.of(await auth.switch(caller, ObjectId(body.organization_id), workspace))


@router.get(
    "/me",
    summary="Your account and memberships",
    responses=errors(*AUTHENTICATION, ApiKeyNotAllowed),
)
async def me(account: CurrentAccount, directory: DirectoryDep) -> AccountRead:
    """Any signed-in caller."""
    caller = account.principal
    memberships = await directory.memberships_of(caller)
    return AccountRead(
        email_verified=account.email_verified_at is not None,
        email_verified_at=account.email_verified_at,
        account_id=str(caller.account_id),
        email=caller.email,
        organization_id=str(caller.organization_id),
        role=caller.role,
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
    responses=errors(InvalidInput, *AUTHENTICATION, WrongCurrentPassword, TooManyAttempts),
)
async def change_password(
    body: PasswordChange, caller: CurrentPrincipal, auth: SessionsDep, address: ClientAddress
) -> Message:
    """Any signed-in caller. Every token issued to the account before, this one included,
    stops working: log in again."""
    await auth.change_password(caller, body.current_password, body.new_password, address)
    return Message(message="Password changed; log in again")


@router.post(
    "/email-verification",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email yourself a link that verifies your address",
    responses=errors(
        *AUTHENTICATION,
        ApiKeyNotAllowed,
        EmailAlreadyVerified,
        VerificationRequestsThrottled,
        VerificationEmailNotSent,
    ),
)
async def send_verification(
    caller: CurrentPrincipal, verification: EmailVerificationDep
) -> VerificationSentRead:
    """Any signed-in caller whose address is not verified yet. Asking again sends a new link,
    and the one before stops working; an account may ask once every
    `EMAIL_VERIFICATION_RESEND_SECONDS` and `EMAIL_VERIFICATION_PER_HOUR` times an hour
    (then `429` with `Retry-After`)."""
    sent = await verification.send(caller)
    return VerificationSentRead(
        message="Verification email sent", email=sent.email, expires_at=sent.expires_at
    )


@router.post(
    "/email-verification/confirm",
    summary="Confirm your address with the emailed link's token",
    responses=errors(InvalidInput, VerificationLinkInvalid),
)
async def confirm_verification(
    body: VerificationConfirm, verification: EmailVerificationDep
) -> EmailVerifiedRead:
    """Public: the token proves the address, whichever device opens the link. It works once,
    until it expires (`EMAIL_VERIFICATION_TTL_HOURS`)."""
    verified = await verification.confirm(body.token)
    return EmailVerifiedRead(
        message="Email verified", email=verified.email, email_verified_at=verified.verified_at
    )
