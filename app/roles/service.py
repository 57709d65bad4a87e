"""Custom roles: roles an organization defines for itself, beside the five built-in ones.

A custom role is a slug, a name, a description and a set of catalogue permissions
(`app.access.permissions`). Its holders (members, pending invitations, API keys) store only
its slug; every token's and key's check joins the definition as it is now, so a change to a
role's permissions reaches each holder on their next request without a write per holder.

No one creates, edits, gives or deletes a role granting more than they hold: the caller
needs the management permission of the role's class (`management_permission`) and every
permission the role grants. Built-in roles cannot be changed or deleted. A role still held
is deleted only with a replacement, to which its holders are moved first; a delete that
stops half way leaves the role in place (marked `replacing_with`) for the same request to
finish, and a holder of a role that no longer exists holds no permissions.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from bson import ObjectId

from app.access.permissions import (
    BUILTIN_PERMISSIONS,
    Grant,
    Permission,
    builtin_grant,
    grant_of,
    require,
    require_may_grant,
)
from app.access.principal import Principal
from app.access.roles import Role, RoleName, builtin_role
from app.audit.trail import AuditAction, AuditTrail, actor_fields
from app.db.retry import again
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Actor
from app.events.outbox import Outbox
from app.registry.repository import OrganizationRepository
from app.roles.event_subjects import role_data, role_subject
from app.roles.models import CustomRole
from app.roles.repository import RoleRepository, RoleSlugTaken


class RoleNotFound(NotFound):
    code = "role_not_found"
    detail = "No such role in this organization"


class BuiltinRoleFixed(Forbidden):
    code = "builtin_role_fixed"
    detail = "Built-in roles cannot be changed or deleted"


class RoleSlugInUse(Conflict):
    code = "role_slug_taken"
    detail = "The organization already has a role with this slug"


class RoleLimitReached(Conflict):
    code = "role_limit_reached"
    detail = "The organization has as many custom roles as it may have"


class RoleInUse(Conflict):
    code = "role_in_use"
    title = "The role is still held; delete it with `replacement=<role>` to move its holders"

    def __init__(self, holders: Mapping[str, int]) -> None:
        counts = ", ".join(f"{kind.replace('_', ' ')}: {count}" for kind, count in holders.items())
        super().__init__(
            f"The role is still held ({counts}); delete it with ?replacement=<role> to move "
            "its holders to another role first"
        )
        self.extra = {"holders": dict(holders), "holder_count": sum(holders.values())}


class RoleBeingDeleted(Conflict):
    code = "role_being_deleted"
    detail = "The role is being deleted; its holders are moving to another role"


class RoleChangedConcurrently(Conflict):
    code = "role_changed_concurrently"
    detail = "The role changed while this request ran; read it again and retry"


class RoleHolders(Protocol):
    """A collection whose documents hold a role by name (memberships, invitations, keys)."""

    async def count_with_role(self, organization_id: ObjectId, role: RoleName) -> int: ...

    async def replace_role(
        self, organization_id: ObjectId, role: RoleName, replacement: RoleName
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class RoleView:
    """A role as shown: built-in (from the table) or custom (with its definition)."""

    grant: Grant
    name: str
    description: str
    custom: CustomRole | None = None


_BUILTIN_DESCRIPTIONS = {
    Role.OWNER: "Everything, including deleting the organization and handing over ownership.",
    Role.ADMIN: "Runs the organization: profile, members up to billing_admin, data, audit log.",
    Role.BILLING_ADMIN: "Reads and edits billing and the plan; reads the organization.",
    Role.MEMBER: "Reads and writes the organization's documents.",
    Role.VIEWER: "Reads the organization and its documents.",
}


def builtin_views() -> list[RoleView]:
    return [
        RoleView(builtin_grant(role), role.value, _BUILTIN_DESCRIPTIONS[role])
        for role in BUILTIN_PERMISSIONS
    ]


def _view(role: CustomRole) -> RoleView:
    return RoleView(role.grant, role.name, role.description, role)


class RoleService:
    def __init__(
        self,
        roles: RoleRepository,
        holders: Mapping[str, RoleHolders],
        organizations: OrganizationRepository,
        audit: AuditTrail,
        events: Outbox,
        *,
        limit: int,
    ) -> None:
        self._roles = roles
        # By the name a refusal counts them under: members, invitations, api_keys.
        self._holders = holders
        self._organizations = organizations
        self._audit = audit
        self._events = events
        self._limit = limit

    async def list(self, principal: Principal) -> list[RoleView]:
        """The built-in roles, then the organization's own, oldest first."""
        require(principal, Permission.READ_ORGANIZATION)
        custom = await self._roles.of_organization(principal.organization_id)
        return [*builtin_views(), *(_view(role) for role in custom)]

    async def get(self, principal: Principal, slug: str) -> RoleView:
        require(principal, Permission.READ_ORGANIZATION)
        role = builtin_role(slug)
        if role is not None:
            return RoleView(builtin_grant(role), role.value, _BUILTIN_DESCRIPTIONS[role])
        return _view(await self._custom(principal.organization_id, slug))

    async def create(
        self,
        principal: Principal,
        slug: str,
        name: str,
        description: str,
        permissions: frozenset[Permission],
    ) -> RoleView:
        require(principal, Permission.MANAGE_ROLES)
        if builtin_role(slug) is not None:
            raise InvalidInput(("body", "slug"), "is the name of a built-in role")
        require_may_grant(principal, Grant(slug, permissions, builtin=False))
        organization_id = principal.organization_id
        await self._organizations.require_writable(organization_id)
        now = _now()
        role = CustomRole(
            organization_id, slug, name, description, permissions, now, now, principal.account_id
        )
        # Counting the roles and adding one must not interleave with another create's.
        async with self._organizations.holding(organization_id, "roles") as hold:
            if await self._roles.count(organization_id) >= self._limit:
                raise RoleLimitReached(
                    f"The organization has {self._limit} custom roles, as many as it may have"
                )
            await hold.confirm()
            async with self._events.recording(
                EventType.ROLE_CREATED,
                organization_id,
                Actor.of(principal),
                role_data(role),
                role_subject(organization_id, slug),
            ):
                try:
                    await self._roles.insert(role)
                except RoleSlugTaken:
                    # Refused inside the block, so the event is dropped: the role the
                    # subject would find is another's.
                    raise RoleSlugInUse() from None
        await self._audit.record(
            AuditAction.ROLE_CREATE,
            **actor_fields(principal),
            target=slug,
            details={"permissions": sorted(p.value for p in permissions)},
        )
        return _view(role)

    async def update(
        self,
        principal: Principal,
        slug: str,
        *,
        name: str | None = None,
        description: str | None = None,
        permissions: frozenset[Permission] | None = None,
    ) -> RoleView:
        """Change a custom role; a change of permissions reaches its holders' next request."""
        require(principal, Permission.MANAGE_ROLES)
        role = await self._editable(principal, slug)
        if permissions is not None:
            require_may_grant(principal, Grant(slug, permissions, builtin=False))
        await self._organizations.require_writable(principal.organization_id)
        planned = role_data(role)
        if name is not None:
            planned["name"] = name
        if description is not None:
            planned["description"] = description
        if permissions is not None:
            planned["permissions"] = sorted(p.value for p in permissions)
        planned["previous_permissions"] = sorted(p.value for p in role.permissions)
        async with self._events.recording(
            EventType.ROLE_UPDATED,
            principal.organization_id,
            Actor.of(principal),
            planned,
            role_subject(principal.organization_id, slug, version=role.version + 1),
        ):
            changed = await self._roles.update(
                role, _now(), name=name, description=description, permissions=permissions
            )
            if changed is None:
                raise RoleChangedConcurrently()
        details: dict[str, object] = {}
        if permissions is not None and permissions != role.permissions:
            details["added"] = sorted(p.value for p in permissions - role.permissions)
            details["removed"] = sorted(p.value for p in role.permissions - permissions)
        if name is not None and name != role.name:
            details["name"] = name
        await self._audit.record(
            AuditAction.ROLE_UPDATE, **actor_fields(principal), target=slug, details=details
        )
        return _view(changed)

    async def holders(self, organization_id: ObjectId, slug: RoleName) -> dict[str, int]:
        return {
            kind: await holders.count_with_role(organization_id, slug)
            for kind, holders in self._holders.items()
        }

    async def delete(
        self, principal: Principal, slug: str, replacement: RoleName | None = None
    ) -> dict[str, int]:
        """Delete a custom role; with `replacement`, its holders are moved to that role
        first. Refused while the role is held and no replacement is given. How many holders
        of each kind moved."""
        require(principal, Permission.MANAGE_ROLES)
        organization_id = principal.organization_id
        if builtin_role(slug) is not None:
            raise BuiltinRoleFixed()
        role = await self._custom(organization_id, slug)
        require_may_grant(principal, role.grant)
        replacement = replacement or role.replacing_with
        if replacement is not None:
            await self._require_replacement(principal, role, replacement)
        await self._organizations.require_writable(organization_id)
        held = await self.holders(organization_id, slug)
        if replacement is None and any(held.values()):
            raise RoleInUse(held)
        moved = dict.fromkeys(self._holders, 0)
        async with self._events.recording(
            EventType.ROLE_DELETED,
            organization_id,
            Actor.of(principal),
            {**role_data(role), "replacement": replacement},
            role_subject(organization_id, slug, present=False),
        ):
            if replacement is not None:
                if not await self._roles.mark_replacing(role, replacement):
                    raise RoleNotFound()
                await self._move(organization_id, slug, replacement, moved)
            await self._roles.delete(role)
            if replacement is not None:
                # Anyone given the role between the move and the delete moves too.
                await again(lambda: self._move(organization_id, slug, replacement, moved))
        await self._audit.record(
            AuditAction.ROLE_DELETE,
            **actor_fields(principal),
            target=slug,
            details={"replacement": replacement, "moved": moved},
        )
        return moved

    async def _move(
        self, organization_id: ObjectId, slug: str, replacement: RoleName, moved: dict[str, int]
    ) -> None:
        for kind, holders in self._holders.items():
            move = partial(holders.replace_role, organization_id, slug, replacement)
            moved[kind] += await again(move)

    async def _require_replacement(
        self, principal: Principal, role: CustomRole, replacement: RoleName
    ) -> None:
        location = ("query", "replacement")
        if replacement == role.slug:
            raise InvalidInput(location, "name another role than the one deleted")
        if replacement == Role.OWNER:
            raise InvalidInput(
                location, "owners are made by transferring ownership, not by replacement"
            )
        grant = await self.assignable(principal.organization_id, replacement, location)
        require_may_grant(principal, grant)

    async def assignable(
        self,
        organization_id: ObjectId,
        name: RoleName,
        location: tuple[str, ...] = ("body", "role"),
    ) -> Grant:
        """The role `name` as it may be given to someone now: a built-in role, or a custom
        role of the organization that no delete is removing."""
        role = builtin_role(name)
        if role is not None:
            return builtin_grant(role)
        found = await self._roles.get(organization_id, name)
        if found is None:
            raise InvalidInput(location, f"no role {name!r} in this organization")
        if found.replacing_with is not None:
            raise RoleBeingDeleted()
        return found.grant

    async def existing(
        self, organization_id: ObjectId, name: RoleName, location: tuple[str, ...]
    ) -> None:
        """Refuse a role name that is neither built in nor one of the organization's."""
        if builtin_role(name) is None and await self._roles.get(organization_id, name) is None:
            raise InvalidInput(location, f"no role {name!r} in this organization")

    async def held(self, organization_id: ObjectId, name: RoleName) -> Grant:
        """The role someone holds now, resolved; a custom role since deleted grants nothing."""
        if builtin_role(name) is not None:
            return grant_of(name)
        found = await self._roles.get(organization_id, name)
        return found.grant if found else grant_of(name)

    async def grants_of(self, organization_id: ObjectId, names: set[RoleName]) -> dict[str, Grant]:
        """Several roles resolved at once (one read for the custom ones)."""
        custom = [name for name in names if builtin_role(name) is None]
        found = (
            {r.slug: r.grant for r in await self._roles.of_slugs(organization_id, custom)}
            if custom
            else {}
        )
        return {name: found.get(name) or grant_of(name) for name in names}

    async def _custom(self, organization_id: ObjectId, slug: str) -> CustomRole:
        role = await self._roles.get(organization_id, slug)
        if role is None:
            raise RoleNotFound()
        return role

    async def _editable(self, principal: Principal, slug: str) -> CustomRole:
        if builtin_role(slug) is not None:
            raise BuiltinRoleFixed()
        role = await self._custom(principal.organization_id, slug)
        if role.replacing_with is not None:
            raise RoleBeingDeleted()
        require_may_grant(principal, role.grant)
        return role


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
