"""The permission catalogue and the rules for giving roles, as plain logic."""

import pytest

from app.access.permissions import (
    BUILTIN_PERMISSIONS,
    OWNER_ONLY,
    Grant,
    Permission,
    PermissionsNotHeld,
    builtin_grant,
    grant_of,
    management_permission,
    require_may_grant,
)
from app.access.roles import Role
from app.errors import RoleNotAllowed

P = Permission


def custom(*permissions: Permission) -> Grant:
    return Grant("custom", frozenset(permissions), builtin=False)


def test_the_built_in_roles_hold_exactly_the_table() -> None:
    everyone = {P.READ_ORGANIZATION}
    managers = {
        P.EDIT_ORGANIZATION,
        P.READ_BILLING,
        P.MANAGE_MEMBERS,
        P.MANAGE_ROLES,
        P.READ_TENANT_DOCUMENTS,
        P.WRITE_TENANT_DOCUMENTS,
        P.READ_AUDIT_LOG,
        P.MANAGE_WORKSPACES,
        P.MANAGE_API_KEYS,
        P.READ_EVENTS,
        P.MANAGE_WEBHOOKS,
    }
    assert {
        Role.OWNER: frozenset(Permission),
        Role.ADMIN: frozenset(everyone | managers),
        Role.BILLING_ADMIN: frozenset(everyone | {P.READ_BILLING, P.EDIT_BILLING}),
        Role.MEMBER: frozenset(everyone | {P.READ_TENANT_DOCUMENTS, P.WRITE_TENANT_DOCUMENTS}),
        Role.VIEWER: frozenset(everyone | {P.READ_TENANT_DOCUMENTS}),
    } == BUILTIN_PERMISSIONS
    assert (
        frozenset({P.DELETE_ORGANIZATION, P.SUSPEND_ORGANIZATION, P.MANAGE_ADMINS, P.MANAGE_OWNERS})
        == OWNER_ONLY
    )


@pytest.mark.parametrize(
    ("role", "needed"),
    [
        (Role.OWNER, P.MANAGE_OWNERS),
        (Role.ADMIN, P.MANAGE_ADMINS),
        (Role.BILLING_ADMIN, P.MANAGE_MEMBERS),
        (Role.MEMBER, P.MANAGE_MEMBERS),
        (Role.VIEWER, P.MANAGE_MEMBERS),
    ],
)
def test_built_in_roles_keep_their_rows(role: Role, needed: Permission) -> None:
    assert management_permission(builtin_grant(role)) is needed


@pytest.mark.parametrize(
    ("grant", "needed"),
    [
        (custom(P.READ_ORGANIZATION, P.SUSPEND_ORGANIZATION), P.MANAGE_OWNERS),
        (custom(P.MANAGE_ADMINS), P.MANAGE_OWNERS),
        (custom(P.MANAGE_MEMBERS), P.MANAGE_ADMINS),
        (custom(P.MANAGE_ROLES), P.MANAGE_ADMINS),
        (custom(P.MANAGE_API_KEYS), P.MANAGE_ADMINS),
        (custom(P.WRITE_TENANT_DOCUMENTS, P.EDIT_BILLING, P.READ_AUDIT_LOG), P.MANAGE_MEMBERS),
        (custom(), P.MANAGE_MEMBERS),
    ],
    ids=["owner-only", "admins", "members", "roles", "keys", "plain", "empty"],
)
def test_a_custom_role_is_classed_by_what_it_grants(grant: Grant, needed: Permission) -> None:
    assert management_permission(grant) is needed


def test_giving_a_custom_role_takes_every_permission_it_grants() -> None:
    admin = builtin_grant(Role.ADMIN)

    require_may_grant(admin, custom(P.READ_ORGANIZATION, P.READ_BILLING))
    require_may_grant(admin, builtin_grant(Role.BILLING_ADMIN))  # the table's own row
    with pytest.raises(PermissionsNotHeld, match=r"billing\.edit"):
        require_may_grant(admin, custom(P.READ_ORGANIZATION, P.EDIT_BILLING))
    with pytest.raises(RoleNotAllowed, match="invite / remove / change role of admin"):
        require_may_grant(admin, custom(P.MANAGE_MEMBERS))


def test_a_stored_role_resolves_to_the_catalogue_names_it_holds() -> None:
    support = grant_of("support", ["documents.read", "no.such"])

    assert support == Grant("support", frozenset({P.READ_TENANT_DOCUMENTS}), builtin=False)
    assert grant_of("gone").permissions == frozenset()
    assert grant_of("viewer") == builtin_grant(Role.VIEWER)
