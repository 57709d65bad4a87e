"""Organization API keys: machines acting for an organization without a person signed in.

Owners and admins create keys with a role no higher than their own (and, for a workspace
key, in one of the organization's workspaces). The secret is shown once; only its keyed
hash is kept (`app.access.keys`). A key authenticates as `Authorization: Bearer tko_...` on
the organization's routes wherever its role allows, never on account routes. Each request
checks the key in one aggregation (the key, its organization, its workspace), so a revoked
or expired key, or one whose organization went, fails on its next request. Each key may
make `API_KEY_REQUESTS_PER_MINUTE` requests a minute in each instance of the service.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from app.access.keys import KeyHasher, KeyKind, PresentedKey
from app.access.permissions import (
    Permission,
    grant_of,
    management_permission,
    require,
    require_may_grant,
)
from app.access.principal import Principal
from app.access.roles import RoleName
from app.apikeys.event_subjects import key_data, key_subject
from app.apikeys.models import ApiKey
from app.apikeys.repository import ApiKeyRepository
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.keyset import Slice, Window
from app.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound, TooManyAttempts
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.registry.errors import OrganizationSuspended
from app.registry.models import Organization, Status
from app.roles.service import RoleService
from app.sessions.caller import Caller
from app.workspaces.access import WorkspaceAccess, WorkspaceContext
from app.workspaces.models import Workspace, WorkspaceRole

# `last_used_at` is written at most this often per key.
USED_INTERVAL = timedelta(minutes=1)
# Keys whose request counts an instance keeps (the most recently seen).
_COUNTED_KEYS = 10_000


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    detail = "API key not found"


class ApiKeyNotAllowed(Forbidden):
    code = "api_key_not_allowed"
    detail = (
        "API keys act for an organization, not for an account: sign in for this "
        "(POST /api/v1/auth/login)"
    )


class ApiKeyRateLimited(TooManyAttempts):
    code = "api_key_rate_limited"
    detail = "This API key has made too many requests; try again later"


def seconds_now() -> float:
    """The clock request counts go by."""
    return time.monotonic()


class RequestCounter:
    """Requests per key in the current minute, in this instance."""

    def __init__(self, per_minute: int, clock: Callable[[], float] | None = None) -> None:
        self._per_minute = per_minute
        self._clock = clock or (lambda: seconds_now())
        self._counts: OrderedDict[ObjectId, tuple[int, int]] = OrderedDict()

    def take(self, key_id: ObjectId) -> None:
        """Count one request; raise ApiKeyRateLimited when the minute's allowance is spent."""
        if self._per_minute <= 0:
            return
        now = self._clock()
        minute = int(now // 60)
        started, count = self._counts.get(key_id, (minute, 0))
        if started != minute:
            count = 0
        if count >= self._per_minute:
            raise ApiKeyRateLimited(max(1, math.ceil((minute + 1) * 60 - now)))
        self._counts[key_id] = (minute, count + 1)
        self._counts.move_to_end(key_id)
        if len(self._counts) > _COUNTED_KEYS:
            self._counts.popitem(last=False)


class ApiKeyService:
    def __init__(
        self,
        keys: ApiKeyRepository,
        hasher: KeyHasher,
        workspaces: WorkspaceAccess,
        audit: AuditTrail,
        counter: RequestCounter,
        roles: RoleService,
        events: Outbox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._roles = roles
        self._events = events
        self._keys = keys
        self._hasher = hasher
        self._workspaces = workspaces
        self._audit = audit
        self._counter = counter
        self._clock = clock

    async def create(
        self,
        principal: Principal,
        organization: Organization,
        name: str,
        role: RoleName,
        workspace_id: ObjectId | None,
        expires_at: datetime | None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is never shown again."""
        require(principal, Permission.MANAGE_API_KEYS)
        # Granting a role takes what inviting someone with it takes: never above one's own.
        require_may_grant(principal, await self._roles.assignable(organization.id, role))
        if organization.status is Status.SUSPENDED:
            raise OrganizationSuspended()
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput(("body", "expires_at"), "must be in the future")
        if workspace_id is not None:
            context = await self._workspaces.context(principal, workspace_id)
            if context.workspace.archived:
                raise InvalidInput(("body", "workspace_id"), "the workspace is archived")
        minted = self._hasher.mint(KeyKind.ORGANIZATION)
        key = ApiKey(
            id=minted.key_id,
            organization_id=organization.id,
            name=name,
            role=role,
            prefix=minted.prefix,
            digest=minted.digest,
            created_by=principal.account_id,
            created_by_email=principal.email,
            created_at=now.replace(microsecond=now.microsecond // 1000 * 1000),
            workspace_id=workspace_id,
            expires_at=expires_at,
        )
        async with self._events.recording(
            EventType.API_KEY_CREATED,
            organization.id,
            Actor.of(principal),
            key_data(key),
            key_subject(key),
        ):
            await self._keys.insert(key)
        await self._audit.record(
            AuditAction.API_KEY_CREATE,
            **actor_fields(principal),
            target=key.prefix,
            details={"name": name, "role": role},
        )
        return key, minted.secret

    async def list(self, principal: Principal, window: Window) -> Slice[ApiKey]:
        require(principal, Permission.MANAGE_API_KEYS)
        return await self._keys.page(principal.organization_id, window)

    async def get(self, principal: Principal, key_id: ObjectId) -> ApiKey:
        require(principal, Permission.MANAGE_API_KEYS)
        key = await self._keys.get(principal.organization_id, key_id)
        if key is None:
            raise ApiKeyNotFound()
        return key

    async def revoke(self, principal: Principal, key_id: ObjectId) -> None:
        """Revoke a key: its next request fails. Revoking a revoked key answers 404."""
        key = await self.get(principal, key_id)
        held = await self._roles.held(principal.organization_id, key.role)
        require(principal, management_permission(held))
        at = self._clock()
        revoked = replace(key, revoked_at=at)
        async with self._events.recording(
            EventType.API_KEY_REVOKED,
            principal.organization_id,
            Actor.of(principal),
            key_data(revoked),
            key_subject(key, revoked=True),
        ):
            if not await self._keys.revoke(principal.organization_id, key_id, at):
                raise ApiKeyNotFound()
        await self._audit.record(
            AuditAction.API_KEY_REVOKE, **actor_fields(principal), target=key.prefix
        )

    async def authenticate(self, presented: PresentedKey) -> Caller:
        """The caller a key stands for, while it is live and its organization visible."""
        if presented.kind is not KeyKind.ORGANIZATION:
            raise NotAuthenticated()
        standing = await self._keys.standing(presented.key_id)
        now = self._clock()
        if (
            standing is None
            or not self._hasher.matches(presented, standing.key.digest)
            or not standing.key.live_at(now)
            or standing.organization is None
        ):
            raise NotAuthenticated()
        organization = Organization.from_document(standing.organization)
        if not organization.visible:
            raise NotAuthenticated()
        key = standing.key
        self._counter.take(key.id)
        if key.last_used_at is None or key.last_used_at <= now - USED_INTERVAL:
            await self._keys.mark_used(key.id, now, USED_INTERVAL)
        principal = Principal(
            account_id=key.id,
            organization_id=organization.id,
            email=f"API key {key.name}",
            role=key.role,
            permissions=grant_of(key.role, _stored_permissions(standing.custom_role)).permissions,
            token_id=key.prefix,
            token_expires_at=key.expires_at or datetime.max.replace(tzinfo=UTC),
            workspace_id=key.workspace_id,
            api_key=key.prefix,
        )
        return Caller(principal, organization, _workspace_rights(principal, standing.workspace))


def _workspace_rights(
    principal: Principal, workspace: dict[str, object] | None
) -> WorkspaceContext | None:
    """A key's rights in its workspace: organization-wide for owner and admin keys (and
    custom roles granting `workspaces.manage`); a key whose role writes documents edits
    them, any other reads them, as invited people do."""
    if workspace is None or workspace.get("organization_id") != principal.organization_id:
        return None
    found = Workspace.from_document(workspace)
    if principal.organization_wide:
        return WorkspaceContext(found, None, True)
    writes = Permission.WRITE_TENANT_DOCUMENTS in principal.permissions
    return WorkspaceContext(found, WorkspaceRole.EDITOR if writes else WorkspaceRole.VIEWER)


def _stored_permissions(role: dict[str, object] | None) -> list[str] | None:
    permissions = role.get("permissions") if role else None
    return [str(p) for p in permissions] if isinstance(permissions, list) else None
