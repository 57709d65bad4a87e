"""Request and response bodies of the member endpoints."""

from pydantic import BaseModel, Field

from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.members.service import MemberView
from app.roles.schemas import AssignedRole


class InviterRead(BaseModel):
    account_id: str
    email: str | None = Field(description="Null when the inviter's account no longer exists.")


class MemberRead(BaseModel):
    account_id: str
    email: str
    role: str = Field(description="A built-in role or the slug of a custom role.")
    joined_at: Timestamp
    invited_by: InviterRead | None = Field(
        default=None,
        description="Who sent the invitation the member accepted; null for founders and "
        "for members who joined another way.",
    )
    last_active_at: Timestamp | None = Field(
        default=None,
        description="When the member last used a token for this organization, to within a "
        "few minutes (it is recorded at most once every five); null until then.",
    )

    @classmethod
    def of(cls, view: MemberView) -> "MemberRead":
        inviter = view.invited_by
        return cls(
            account_id=str(view.account_id),
            email=view.email,
            role=view.role,
            joined_at=view.joined_at,
            invited_by=(
                InviterRead(account_id=str(inviter.account_id), email=inviter.email)
                if inviter is not None
                else None
            ),
            last_active_at=view.last_active_at,
        )


class RoleChange(RequestBody):
    role: AssignedRole


class OwnershipTransfer(RequestBody):
    account_id: str = Field(
        pattern=r"^[0-9a-f]{24}$", description="The member who becomes owner; you become admin."
    )
