"""Invitations: managed under an organization, accepted by the person invited."""

from typing import Annotated

from bson import ObjectId
from fastapi import APIRouter, Path, status

from app.access.permissions import Action, who_may
from app.access.roles import Role
from app.api.deps import InvitationsDep, OptionalPrincipal, OrganizationReader
from app.api.pagination import PAGED, Page, PageQuery
from app.api.responses import INVALID_INPUT, UNAUTHENTICATED, Message, error
from app.db.ids import parse_object_id
from app.invitations.schemas import InvitationAccept, InvitationCreate, InvitationRead
from app.invitations.service import InvitationNotFound
from app.sessions.schemas import TokenResponse

organization_router = APIRouter(
    prefix="/api/v1/organizations/{org_id}/invitations", tags=["invitations"]
)
router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])

MANAGE_RULE = (
    "Inviting (or resending, revoking) a member, viewer or billing_admin takes owner or admin; "
    "an admin, owner only."
)
RESPONSES: dict[int | str, dict[str, object]] = {
    **INVALID_INPUT,
    **UNAUTHENTICATED,
    403: error("The token acts for another organization, or the role does not allow this."),
    404: error("No such organization or invitation."),
    410: error("The invitation is no longer pending."),
}


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
    responses={
        **RESPONSES,
        409: error("Already a member, already invited, or the plan's member limit is reached."),
        423: error("The organization is suspended."),
    },
)
async def invite(
    body: InvitationCreate, caller: OrganizationReader, invitations: InvitationsDep
) -> InvitationRead:
    invitation, sent = await invitations.invite(caller, body.email, Role(body.role))
    return InvitationRead.of(invitation, sent)


@organization_router.get(
    "",
    summary="List pending invitations",
    description=who_may(Action.MANAGE_MEMBERS),
    responses={**RESPONSES, **PAGED},
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
    responses={**RESPONSES, 423: error("The organization is suspended.")},
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
    responses=RESPONSES,
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
    responses={
        **INVALID_INPUT,
        403: error("The invitation was sent to another email address."),
        404: error("No invitation has this token."),
        409: error("Already a member, or the email has an account: sign in first."),
        410: error("The invitation expired, was revoked, or was used."),
    },
)
async def accept(
    body: InvitationAccept,
    invitations: InvitationsDep,
    caller: OptionalPrincipal,
) -> TokenResponse:
    return TokenResponse.of(await invitations.accept(body.token, caller, body.password))
