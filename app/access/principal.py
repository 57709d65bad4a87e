"""The authenticated caller of a request."""

from dataclasses import dataclass, replace
from datetime import datetime

from bson import ObjectId

from app.access.permissions import Grant, Permission
from app.access.roles import RoleName


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: ObjectId
    organization_id: ObjectId
    email: str
    # The role's name (a built-in role or a custom role's slug) and what it permits, as
    # resolved when the token or key was checked for this request.
    role: RoleName
    permissions: frozenset[Permission]
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
        """Owners and admins (and custom roles granting `workspaces.manage`) see and manage
        every workspace of the organization."""
        return Permission.MANAGE_WORKSPACES in self.permissions

    def holding(self, grant: Grant) -> "Principal":
        """The same caller with another role (as in another organization)."""
        return replace(self, role=grant.role, permissions=grant.permissions)
