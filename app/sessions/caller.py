"""The caller of a request with what checking its token read."""

from dataclasses import dataclass
from datetime import datetime

from app.access.principal import Principal
from app.registry.models import Organization
from app.workspaces.access import WorkspaceContext


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls, and the organization's entry as the token's check read it.

    `workspace` is the caller's rights in the token's workspace when the same read could tell
    them, else None. The entry is as fresh as the check: reads may go where it says, and
    document writes, which must see a rename that began before they did, take their write
    lease before the check (see `app.api.deps`).
    """

    principal: Principal
    organization: Organization
    workspace: WorkspaceContext | None = None
    # True while the request holds the organization's write lease, taken before the check.
    leased: bool = False
    # When the signed-in account verified its email (None: not verified, or an API key).
    email_verified_at: datetime | None = None
