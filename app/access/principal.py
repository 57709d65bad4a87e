"""The authenticated caller of a request."""

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from app.access.roles import Role


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: ObjectId
    organization_id: ObjectId
    email: str
    role: Role
    token_id: str
    token_expires_at: datetime
    # The workspace the token works in; None means the organization's default workspace.
    workspace_id: ObjectId | None = None
    # An API key's prefix when a key calls: `account_id` is then the key's own id, `email`
    # its name, and account endpoints (password, switch, log out) refuse it.
    api_key: str | None = None

    @property
    def is_key(self) -> bool:
        return self.api_key is not None

    @property
    def organization_wide(self) -> bool:
        """Owners and admins see and manage every workspace of the organization."""
        return self.role in (Role.OWNER, Role.ADMIN)
