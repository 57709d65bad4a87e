"""Request and response bodies of the authentication endpoints."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.access.credentials import Email, Password
from app.kit.request_body import RequestBody
from app.kit.times import Timestamp
from app.sessions.service import LoginResult


class LoginRequest(RequestBody):
    email: Email
    password: Password


class TokenResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "token_type": "bearer",
                    "admin_id": "6650c0d2f1a4b8e9c3d2a1b0",
                    "org_id": "6650c0d2f1a4b8e9c3d2a1af",
                    "expires_in": 3600,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    admin_id: str
    org_id: str
    expires_in: int = Field(description="Seconds until the token expires.")
    role: str | None = Field(
        default=None, description="The account's role in the organization the token acts for."
    )

    @classmethod
    def of(cls, result: LoginResult) -> "TokenResponse":
        return cls(
            access_token=result.token.token,
            admin_id=str(result.account_id),
            org_id=str(result.organization_id),
            expires_in=result.token.lifetime_seconds,
            role=result.role,
        )


class CallerRead(BaseModel):
    admin_id: str
    org_id: str
    email: str
    role: str = Field(examples=["owner"])


class OrganizationLogin(LoginRequest):
    organization_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{24}$",
        description="The organization the token should act for; default: your home one.",
    )


class SwitchRequest(RequestBody):
    organization_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    workspace_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{24}$",
        description="Work in this workspace; default: the organization's default workspace.",
    )


class PasswordChange(RequestBody):
    current_password: Password
    new_password: Password


class WorkspaceMembershipRead(BaseModel):
    workspace_id: str
    name: str
    role: str | None = Field(
        description=(
            "Your role as a member of the workspace; null when you are not one (your "
            "organization role, owner or admin, opens every workspace to you)."
        )
    )


class MembershipRead(BaseModel):
    organization_id: str
    organization_name: str
    role: str
    workspaces: list[WorkspaceMembershipRead] = Field(default_factory=list)


class AccountRead(BaseModel):
    account_id: str
    email: str
    organization_id: str = Field(description="The organization this token acts for.")
    role: str = Field(description="Your role there.")
    workspace_id: str | None = Field(description="The workspace this token works in, if named.")
    email_verified: bool = Field(
        description="Whether the account proved it receives mail at `email` (a verification "
        "link, or an accepted invitation)."
    )
    email_verified_at: Timestamp | None = Field(description="When it did; null until then.")
    memberships: list[MembershipRead]


class VerificationSentRead(BaseModel):
    message: str
    email: str = Field(description="Where the link went.")
    expires_at: Timestamp = Field(description="When the link stops working.")


class VerificationConfirm(RequestBody):
    token: str = Field(
        min_length=20,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `token` of the emailed link (also shown in the email as a code).",
    )


class EmailVerifiedRead(BaseModel):
    message: str
    email: str
    email_verified_at: Timestamp
