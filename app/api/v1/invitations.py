"""Invitations: managed under an organization, accepted by the person invited."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, Request, Response, status

from app.access.permissions import Permission, PermissionsNotHeld, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import (
    SCOPED_ERRORS,
    InvitationsDep,
    OptionalPrincipal,
    OrganizationReader,
    OrganizationViewer,
)
from app.api.openapi import operation_ids
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import AUTHENTICATION, Message, errors
from app.db.ids import parse_object_id
from app.errors import InvalidInput, PreconditionFailed, TooManyAttempts
from app.invitations.schemas import InvitationAccept, InvitationCreate, InvitationRead
from app.invitations.seats import MemberLimitReached
from app.invitations.service import (
    AlreadyAMember,
    AlreadyPending,
    InvitationForSomeoneElse,
    InvitationGone,
    InvitationNotFound,
    InvitationReplaced,
    ResendInProgress,
    SignInToAccept,
)
from app.registry.errors import OrganizationSuspended
from app.roles.service import RoleBeingDeleted
from app.sessions.schemas import TokenResponse

organization_router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/invitations",
    tags=["invitations"],
    generate_unique_id_function=operation_ids("invitations"),
)
router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/invitations",
    tags=["invitations"],
    generate_unique_id_function=operation_ids("invitations"),
)

MANAGE_RULE = (
    "Inviting (or resending, revoking) a member, viewer or billing_admin takes owner or admin; "
    "an admin, owner only. Inviting with a custom role takes what its class takes (see "
    "changing a member's role) and every permission it grants."
)
MANAGE_ERRORS = (*SCOPED_ERRORS, InvitationNotFound, InvitationGone)


InvitationPath = Annotated[str, Path(description="The invitation's id.")]


def _invitation_id(value: str) -> ObjectId:
    parsed = parse_object_id(value)
    if parsed is None:
        raise InvitationNotFound()
    return parsed


@organization_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Invite someone by email",
    description=MANAGE_RULE,
    responses=errors(
        *SCOPED_ERRORS,
        PermissionsNotHeld,
        RoleBeingDeleted,
        AlreadyAMember,
        AlreadyPending,
        MemberLimitReached,
        OrganizationSuspended,
    ),
)
async def create(
    body: InvitationCreate,
    caller: OrganizationViewer,
    invitations: InvitationsDep,
    request: Request,
    response: Response,
) -> InvitationRead:
    invitation, sent = await invitations.invite(
        caller.principal, body.email, body.role, caller.organization
    )
    response.headers["Location"] = f"{request.url.path}/{invitation.id}"
    return InvitationRead.of(invitation, sent)


@organization_router.get(
    "/{invitation_id}",
    summary="An invitation, whatever its status",
    description=who_may(Permission.MANAGE_MEMBERS),
    responses=errors(*SCOPED_ERRORS, InvitationNotFound),
)
async def read(
    invitation_id: InvitationPath, caller: OrganizationReader, invitations: InvitationsDep
) -> InvitationRead:
    return InvitationRead.of(await invitations.get(caller, _invitation_id(invitation_id)))


@organization_router.get(
    "",
    summary="List pending invitations",
    name="list",
    description=who_may(Permission.MANAGE_MEMBERS),
    responses={**errors(*SCOPED_ERRORS), **PAGED},
)
async def list_pending(
    caller: OrganizationReader, invitations: InvitationsDep, page: PageQuery
) -> Page[InvitationRead]:
    listed = await invitations.list_pending(caller, page.window)
    return Page.of([InvitationRead.of(i) for i in listed.items], listed, page)


@organization_router.post(
    "/{invitation_id}/resend",
    summary="Send a new link (the old one stops working)",
    description=MANAGE_RULE,
    responses=errors(*MANAGE_ERRORS, ResendInProgress, OrganizationSuspended),
)
async def resend(
    invitation_id: InvitationPath, caller: OrganizationReader, invitations: InvitationsDep
) -> InvitationRead:
    invitation, sent = await invitations.resend(caller, _invitation_id(invitation_id))
    return InvitationRead.of(invitation, sent)


@organization_router.delete(
    "/{invitation_id}",
    summary="Revoke a pending invitation",
    description=MANAGE_RULE,
    responses=errors(*MANAGE_ERRORS, PreconditionFailed),
)
async def revoke(
    invitation_id: InvitationPath, caller: OrganizationReader, invitations: InvitationsDep
) -> Message:
    await invitations.revoke(caller, _invitation_id(invitation_id))
    return Message(message="Invitation revoked")


@router.post(
    "/accept",
    summary="Accept an invitation",
    description=(
        "Public, or with a bearer token. Signed in, the token's account must have the invited "
        "email and joins as itself. Without a token, a new account is created with `password` "
        "(if the email already has an account, sign in first). Answers a token for the "
        "organization joined."
    ),
    responses=errors(
        InvalidInput,
        *AUTHENTICATION,
        InvitationForSomeoneElse,
        InvitationNotFound,
        AlreadyAMember,
        SignInToAccept,
        MemberLimitReached,
        InvitationGone,
        InvitationReplaced,
        TooManyAttempts,
    ),
    openapi_extra={"security": [{}]},  # the bearer token is optional
)
async def accept(
    body: InvitationAccept,
    invitations: InvitationsDep,
    caller: OptionalPrincipal,
) -> TokenResponse:
    return TokenResponse.of(await invitations.accept(body.token, caller, body.password))
