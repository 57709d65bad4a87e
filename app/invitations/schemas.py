"""Request and response bodies of the invitation endpoints."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.access.credentials import Email, Password
from app.invitations.models import Invitation
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.roles.schemas import AssignedRole


class InvitationCreate(RequestBody):
    email: Email
    role: Annotated[
        AssignedRole,
        Field(description="Any role but owner (owners are made by transfer, not invited)."),
    ]


class InvitationRead(BaseModel):
    id: str
    email: str
    role: str
    status: Literal["pending", "accepted", "revoked", "expired"]
    invited_by: str
    created_at: Timestamp
    expires_at: Timestamp
    email_sent: bool | None = Field(
        default=None, description="On create and resend: whether the email went out."
    )

    @classmethod
    def of(cls, invitation: Invitation, email_sent: bool | None = None) -> "InvitationRead":
        return cls(
            id=str(invitation.id),
            email=invitation.email,
            role=invitation.role,
            status=invitation.effective_status.value,
            invited_by=str(invitation.invited_by),
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            email_sent=email_sent,
        )


class InvitationAccept(RequestBody):
    token: str = Field(min_length=16, max_length=256, description="From the invitation link.")
    password: Password | None = Field(
        default=None,
        description="For a new account: its password. Omit when accepting while signed in.",
    )
