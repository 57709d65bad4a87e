"""Request and response bodies of the member endpoints."""

from typing import Literal

from pydantic import BaseModel, Field

from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.members.service import MemberView

RoleName = Literal["owner", "admin", "billing_admin", "member", "viewer"]


class MemberRead(BaseModel):
    account_id: str
    email: str
    role: RoleName
    joined_at: Timestamp

    @classmethod
    def of(cls, view: MemberView) -> "MemberRead":
        return cls(
            account_id=str(view.account_id),
            email=view.email,
            role=view.role.value,
            joined_at=view.joined_at,
        )


class RoleChange(RequestBody):
    role: RoleName = Field(description="The member's new role.")


class OwnershipTransfer(RequestBody):
    account_id: str = Field(
        pattern=r"^[0-9a-f]{24}$", description="The member who becomes owner; you become admin."
    )
