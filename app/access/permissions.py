"""Who may do what: the roles table, in one place.

Services ask `require(role, action)`; nothing else compares roles.
"""

from enum import StrEnum

from app.access.roles import Role
from app.errors import RoleNotAllowed


class Action(StrEnum):
    READ_ORGANIZATION = "read organization, list members"
    EDIT_ORGANIZATION = "rename / edit profile, domain, metadata"
    DELETE_ORGANIZATION = "delete organization, transfer ownership"
    SUSPEND_ORGANIZATION = "suspend or reactivate the organization"
    READ_BILLING = "read billing"
    EDIT_BILLING = "edit billing, plan"
    MANAGE_MEMBERS = "invite / remove / change role of member, viewer, billing_admin"
    MANAGE_ADMINS = "invite / remove / change role of admin"
    # Not a row of its own in the product's table, where it goes with transferring
    # ownership; named apart so a refusal says what was refused.
    MANAGE_OWNERS = "promote to / demote / remove owner"
    READ_TENANT_DOCUMENTS = "read tenant documents"
    WRITE_TENANT_DOCUMENTS = "write tenant documents"
    READ_AUDIT_LOG = "read audit log"
    MANAGE_API_KEYS = "create / list / revoke the organization's API keys"
    # Not rows of the product's table: events and webhooks go with the audit log, to the
    # roles that see everything that changes.
    READ_EVENTS = "read events"
    MANAGE_WEBHOOKS = "manage webhook endpoints and deliveries"


_EVERYONE = frozenset(Role)
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ_ORGANIZATION: _EVERYONE,
    Action.EDIT_ORGANIZATION: frozenset({Role.OWNER, Role.ADMIN}),
    Action.DELETE_ORGANIZATION: frozenset({Role.OWNER}),
    Action.SUSPEND_ORGANIZATION: frozenset({Role.OWNER}),
    Action.READ_BILLING: frozenset({Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN}),
    Action.EDIT_BILLING: frozenset({Role.OWNER, Role.BILLING_ADMIN}),
    Action.MANAGE_MEMBERS: frozenset({Role.OWNER, Role.ADMIN}),
    Action.MANAGE_ADMINS: frozenset({Role.OWNER}),
    Action.MANAGE_OWNERS: frozenset({Role.OWNER}),
    Action.READ_TENANT_DOCUMENTS: frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER}),
    Action.WRITE_TENANT_DOCUMENTS: frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER}),
    Action.READ_AUDIT_LOG: frozenset({Role.OWNER, Role.ADMIN}),
    Action.MANAGE_API_KEYS: frozenset({Role.OWNER, Role.ADMIN}),
    Action.READ_EVENTS: frozenset({Role.OWNER, Role.ADMIN}),
    Action.MANAGE_WEBHOOKS: frozenset({Role.OWNER, Role.ADMIN}),
}


def allows(role: Role, action: Action) -> bool:
    return role in ALLOWED[action]


def require(role: Role, action: Action) -> None:
    if not allows(role, action):
        raise RoleNotAllowed(f"The {role.value} role does not allow this: {action.value}")


def action_for(role: Role) -> Action:
    """What inviting, or changing to or from, `role` takes (see the roles table)."""
    if role is Role.OWNER:
        return Action.MANAGE_OWNERS
    if role is Role.ADMIN:
        return Action.MANAGE_ADMINS
    return Action.MANAGE_MEMBERS


def who_may(action: Action) -> str:
    """For OpenAPI descriptions: which roles may call an endpoint."""
    roles = ", ".join(role.value for role in Role if role in ALLOWED[action])
    return f"**Who may call:** {roles} (in the organization the token acts for)."
