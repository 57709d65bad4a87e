"""Who may do what: the permission catalogue and the built-in roles table, in one place.

Every check asks a caller's resolved permission set (`require(principal, permission)`);
nothing else compares roles. A built-in role's set comes from `BUILTIN_PERMISSIONS`, without
any database read; a custom role's from its definition, read with the caller's token or key
(`app.roles`), and a role whose definition is gone grants nothing.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from app.access.roles import Role, RoleName, builtin_role
from app.errors import RoleNotAllowed


class Permission(StrEnum):
    """A catalogue permission by its stable machine name."""

    READ_ORGANIZATION = "organization.read"
    EDIT_ORGANIZATION = "organization.edit"
    DELETE_ORGANIZATION = "organization.delete"
    SUSPEND_ORGANIZATION = "organization.suspend"
    READ_BILLING = "billing.read"
    EDIT_BILLING = "billing.edit"
    MANAGE_MEMBERS = "members.manage"
    MANAGE_ADMINS = "admins.manage"
    MANAGE_OWNERS = "owners.manage"
    MANAGE_ROLES = "roles.manage"
    READ_TENANT_DOCUMENTS = "documents.read"
    WRITE_TENANT_DOCUMENTS = "documents.write"
    READ_AUDIT_LOG = "audit.read"
    MANAGE_WORKSPACES = "workspaces.manage"
    MANAGE_API_KEYS = "api_keys.manage"
    READ_EVENTS = "events.read"
    MANAGE_WEBHOOKS = "webhooks.manage"


@dataclass(frozen=True, slots=True)
class PermissionInfo:
    # What a refusal names ("The viewer role does not allow this: <description>").
    description: str
    # Held by no built-in role but the owner: only an owner may put it in a custom role.
    owner_only: bool = False


CATALOGUE: dict[Permission, PermissionInfo] = {
    Permission.READ_ORGANIZATION: PermissionInfo("read organization, list members"),
    Permission.EDIT_ORGANIZATION: PermissionInfo("rename / edit profile, domain, metadata"),
    Permission.DELETE_ORGANIZATION: PermissionInfo(
        "delete organization, transfer ownership", owner_only=True
    ),
    Permission.SUSPEND_ORGANIZATION: PermissionInfo(
        "suspend or reactivate the organization", owner_only=True
    ),
    Permission.READ_BILLING: PermissionInfo("read billing"),
    Permission.EDIT_BILLING: PermissionInfo("edit billing, plan"),
    Permission.MANAGE_MEMBERS: PermissionInfo(
        "invite / remove / change role of member, viewer, billing_admin"
    ),
    Permission.MANAGE_ADMINS: PermissionInfo(
        "invite / remove / change role of admin", owner_only=True
    ),
    # Not a row of its own in the product's table, where it goes with transferring
    # ownership; named apart so a refusal says what was refused.
    Permission.MANAGE_OWNERS: PermissionInfo("promote to / demote / remove owner", owner_only=True),
    Permission.MANAGE_ROLES: PermissionInfo(
        "create / edit / delete the organization's custom roles"
    ),
    Permission.READ_TENANT_DOCUMENTS: PermissionInfo("read tenant documents"),
    Permission.WRITE_TENANT_DOCUMENTS: PermissionInfo("write tenant documents"),
    Permission.READ_AUDIT_LOG: PermissionInfo("read audit log"),
    Permission.MANAGE_WORKSPACES: PermissionInfo(
        "create workspaces, see and manage every workspace of the organization"
    ),
    Permission.MANAGE_API_KEYS: PermissionInfo(
        "create / list / revoke the organization's API keys"
    ),
    # Not rows of the product's table: events and webhooks go with the audit log, to the
    # roles that see everything that changes.
    Permission.READ_EVENTS: PermissionInfo("read events"),
    Permission.MANAGE_WEBHOOKS: PermissionInfo("manage webhook endpoints and deliveries"),
}

_MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
_ALLOWED: dict[Permission, frozenset[Role]] = {
    Permission.READ_ORGANIZATION: frozenset(Role),
    Permission.EDIT_ORGANIZATION: _MANAGERS,
    Permission.DELETE_ORGANIZATION: frozenset({Role.OWNER}),
    Permission.SUSPEND_ORGANIZATION: frozenset({Role.OWNER}),
    Permission.READ_BILLING: frozenset({Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN}),
    Permission.EDIT_BILLING: frozenset({Role.OWNER, Role.BILLING_ADMIN}),
    Permission.MANAGE_MEMBERS: _MANAGERS,
    Permission.MANAGE_ADMINS: frozenset({Role.OWNER}),
    Permission.MANAGE_OWNERS: frozenset({Role.OWNER}),
    Permission.MANAGE_ROLES: _MANAGERS,
    Permission.READ_TENANT_DOCUMENTS: frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
    Permission.WRITE_TENANT_DOCUMENTS: frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER}),
    Permission.READ_AUDIT_LOG: _MANAGERS,
    Permission.MANAGE_WORKSPACES: _MANAGERS,
    Permission.MANAGE_API_KEYS: _MANAGERS,
    Permission.READ_EVENTS: _MANAGERS,
    Permission.MANAGE_WEBHOOKS: _MANAGERS,
}

# The built-in roles table, role by role.
BUILTIN_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    role: frozenset(p for p, roles in _ALLOWED.items() if role in roles) for role in Role
}
OWNER_ONLY = frozenset(p for p, info in CATALOGUE.items() if info.owner_only)
_NAMES = frozenset(p.value for p in Permission)
# What lets a role's holders decide what others may do: a custom role holding any of these
# is classed with admins (see `management_permission`).
_GRANTING = frozenset(
    {Permission.MANAGE_MEMBERS, Permission.MANAGE_ROLES, Permission.MANAGE_API_KEYS}
)


class Holder(Protocol):
    """Anything that holds a role with its resolved permissions (a principal, a grant)."""

    @property
    def role(self) -> RoleName: ...

    @property
    def permissions(self) -> frozenset[Permission]: ...


@dataclass(frozen=True, slots=True)
class Grant:
    """A role as resolved: its name and what it permits. `builtin` is False for a custom
    role (whose definition may since have been deleted: it then permits nothing)."""

    role: RoleName
    permissions: frozenset[Permission]
    builtin: bool = True


def builtin_grant(role: Role) -> Grant:
    return Grant(role.value, BUILTIN_PERMISSIONS[role])


def grant_of(name: RoleName, stored: Iterable[str] | None = None) -> Grant:
    """The role `name` resolved: from the table for a built-in role, else from a custom
    role's stored permission names (None: no definition, so nothing is permitted). Names
    the catalogue does not know are ignored."""
    role = builtin_role(name)
    if role is not None:
        return builtin_grant(role)
    permissions = frozenset(Permission(p) for p in stored or () if p in _NAMES)
    return Grant(name, permissions, builtin=False)


def allows(holder: Holder, permission: Permission) -> bool:
    return permission in holder.permissions


def refusal(holder: Holder, permission: Permission) -> RoleNotAllowed:
    return RoleNotAllowed(
        f"The {holder.role} role does not allow this: {CATALOGUE[permission].description}"
    )


def require(holder: Holder, permission: Permission) -> None:
    if not allows(holder, permission):
        raise refusal(holder, permission)


def management_permission(role: Grant) -> Permission:
    """What inviting, removing, or changing to or from `role` takes.

    The built-in roles follow the table: owner takes `owners.manage`, admin `admins.manage`,
    the others `members.manage`. A custom role is classed by what it holds: with any
    owner-only permission it is owner-class, with a permission over other people's rights
    (`members.manage`, `roles.manage`, `api_keys.manage`) admin-class, else member-class.
    """
    if role.builtin:
        if role.role == Role.OWNER:
            return Permission.MANAGE_OWNERS
        if role.role == Role.ADMIN:
            return Permission.MANAGE_ADMINS
        return Permission.MANAGE_MEMBERS
    if role.permissions & OWNER_ONLY:
        return Permission.MANAGE_OWNERS
    if role.permissions & _GRANTING:
        return Permission.MANAGE_ADMINS
    return Permission.MANAGE_MEMBERS


class PermissionsNotHeld(RoleNotAllowed):
    code = "permissions_not_held"
    title = "The role given, defined or deleted grants a permission the caller lacks"


def require_may_grant(holder: Holder, role: Grant) -> None:
    """`holder` may give `role` to someone (or take it away): it holds the management
    permission of the role's class, and, for a custom role, every permission the role
    grants. (The built-in table keeps its own rows: an admin may make a billing_admin.)"""
    require(holder, management_permission(role))
    if not role.builtin:
        require_holds(holder, role.permissions)


def require_holds(holder: Holder, permissions: Iterable[Permission]) -> None:
    """No one grants more than they hold."""
    missing = sorted(set(permissions) - holder.permissions)
    if missing:
        raise PermissionsNotHeld(
            f"The {holder.role} role does not allow this: granting permissions it does not "
            f"hold ({', '.join(missing)})"
        )


def who_may(permission: Permission) -> str:
    """For OpenAPI descriptions: which built-in roles may call an endpoint."""
    roles = ", ".join(role.value for role in Role if role in _ALLOWED[permission])
    return (
        f"**Who may call:** {roles}, or a custom role granting `{permission.value}` "
        "(in the organization the token acts for)."
    )
