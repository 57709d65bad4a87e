"""Request and response bodies of the API key endpoints."""

from typing import Annotated

from pydantic import BaseModel, Field

from app.apikeys.models import ApiKey
from app.kit.request_body import RequestBody
from app.kit.times import Rfc3339Input, Timestamp
from app.roles.schemas import AssignedRole


class ApiKeyCreate(RequestBody):
    name: Annotated[str, Field(min_length=1, max_length=100, description="What the key is for.")]
    role: Annotated[
        AssignedRole,
        Field(description="What the key may do (a built-in or custom role); never above yours."),
    ]
    workspace_id: Annotated[
        str | None,
        Field(
            default=None,
            pattern=r"^[0-9a-f]{24}$",
            description="The workspace its documents go to; the default workspace if absent.",
        ),
    ] = None
    expires_at: Annotated[
        Rfc3339Input | None,
        Field(default=None, description="When it stops working (RFC 3339); never if absent."),
    ] = None


class ApiKeyRead(BaseModel):
    id: str
    prefix: str = Field(description="How the secret begins; names the key in the audit log.")
    name: str
    role: str
    workspace_id: str | None
    created_by: str
    created_by_email: str
    created_at: Timestamp
    expires_at: Timestamp | None
    last_used_at: Timestamp | None = Field(description="Updated at most once a minute.")
    revoked_at: Timestamp | None

    @classmethod
    def of(cls, key: ApiKey) -> "ApiKeyRead":
        return cls(
            id=str(key.id),
            prefix=key.prefix,
            name=key.name,
            role=key.role,
            workspace_id=str(key.workspace_id) if key.workspace_id else None,
            created_by=str(key.created_by),
            created_by_email=key.created_by_email,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(
        description="The key itself, `tko_...`: shown this once, never again. Send it as "
        "`Authorization: Bearer <secret>`."
    )
