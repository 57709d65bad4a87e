"""SPEC §3's roles table, cell by cell, through the HTTP API.

Every action that has an endpoint today is tried by each of the five roles: the roles the table
allows get their answer, the others a 403 that changes nothing (checked afterwards, as the owner
sees the organization). Each is tried again by a custom role defined with exactly that built-in
role's permissions (`custom-<role>`): permissions, not role names, decide, so the copy is
allowed and refused exactly what its original is (it is never an owner for the last-owner
rule, which no row here reaches).

Not here: the billing rows ("read billing", "edit billing, plan") are covered in
`tests/billing`. "Read / write tenant documents" and "read audit log" had no endpoints when this
table was written; their rows belong with those endpoints' own tests (`tests/documents` has the
tenant-document rows).
"""

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient, Response

from app.access.permissions import BUILTIN_PERMISSIONS
from app.access.roles import Role
from app.db.store import Store
from tests.support import NAME, add_account, bearer, created_org, login

ORGANIZATIONS = "/api/v1/organizations"
MANAGERS = frozenset({Role.OWNER, Role.ADMIN})
OWNER_ONLY = frozenset({Role.OWNER})


@dataclass(frozen=True, slots=True)
class Actor:
    """A built-in role, or a custom copy of one (a role granting the same permissions)."""

    like: Role
    custom: bool = False

    @property
    def name(self) -> str:
        return f"custom-{self.like.value}" if self.custom else self.like.value


ACTORS = [Actor(role) for role in Role] + [Actor(role, custom=True) for role in Role]
each_role = pytest.mark.parametrize("actor", ACTORS, ids=lambda actor: actor.name)


@dataclass(frozen=True, slots=True)
class Team:
    """An organization whose creator is owner, and the token of the role under test."""

    org_id: str
    role: Role
    actor: str
    name: str = ""

    @property
    def path(self) -> str:
        return f"{ORGANIZATIONS}/{self.org_id}"


async def team(client: AsyncClient, store: Store, actor: Actor | Role) -> Team:
    actor = actor if isinstance(actor, Actor) else Actor(actor)
    role = actor.like
    org = await created_org(client)
    if role is Role.OWNER and not actor.custom:
        return Team(org["id"], role, await login(client), role.value)
    if actor.custom:
        copy = {
            "slug": actor.name,
            "name": f"Copy of {role.value}",
            "permissions": sorted(p.value for p in BUILTIN_PERMISSIONS[role]),
        }
        owner = bearer(await login(client))
        defined = await client.post(f"{ORGANIZATIONS}/{org['id']}/roles", json=copy, headers=owner)
        assert defined.status_code == 201, defined.text
    email = f"actor-{actor.name}@techcorp.com"
    await add_account(store, org["id"], email, actor.name)
    return Team(org["id"], role, await login(client, email=email), actor.name)


async def add_target(store: Store, team: Team, role: Role) -> str:
    """Another member, the one acted upon; returns its account id."""
    return str(await add_account(store, team.org_id, f"target-{role.value}@techcorp.com", role))


def assert_answer(response: Response, t: "Team", allowed: frozenset[Role], ok: int = 200) -> None:
    role = t.role
    assert response.status_code == (ok if role in allowed else 403), response.text
    if role not in allowed:
        assert response.json()["detail"].startswith(f"The {t.name} role does not allow")


async def as_owner(client: AsyncClient, team: Team, path: str = "") -> dict[str, Any]:
    """What the owner reads now, with a fresh login (an earlier token may have been retired)."""
    response = await client.get(f"{team.path}{path}", headers=bearer(await login(client)))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def roles_now(client: AsyncClient, team: Team) -> dict[str, str]:
    page = await as_owner(client, team, "/members?limit=100")
    return {member["account_id"]: member["role"] for member in page["items"]}


@each_role
async def test_everyone_reads_the_organization_and_lists_its_members(
    client: AsyncClient, store: Store, actor: Actor
) -> None:
    t = await team(client, store, actor)

    organization = await client.get(t.path, headers=bearer(t.actor))
    members = await client.get(f"{t.path}/members", headers=bearer(t.actor))

    assert organization.status_code == 200, organization.text
    assert organization.json()["id"] == t.org_id
    assert organization.json()["role"] == t.name
    assert members.status_code == 200, members.text
    assert members.json()["total"] == (1 if t.name == "owner" else 2)


@each_role
async def test_only_owner_and_admin_edit_the_profile(
    client: AsyncClient, store: Store, actor: Actor
) -> None:
    t = await team(client, store, actor)
    role = t.role

    response = await client.patch(t.path, json={"description": "Edited"}, headers=bearer(t.actor))

    assert_answer(response, t, MANAGERS)
    profile = (await as_owner(client, t))["profile"]
    assert profile["description"] == ("Edited" if role in MANAGERS else None)


@each_role
async def test_only_owner_and_admin_rename(client: AsyncClient, store: Store, actor: Actor) -> None:
    t = await team(client, store, actor)
    role = t.role

    response = await client.post(
        f"{t.path}/rename", json={"organization_name": "Renamed Corp"}, headers=bearer(t.actor)
    )

    assert_answer(response, t, MANAGERS)
    assert (await as_owner(client, t))["organization_name"] == (
        "Renamed Corp" if role in MANAGERS else NAME
    )


@each_role
async def test_only_the_owner_deletes_the_organization(
    client: AsyncClient, store: Store, actor: Actor
) -> None:
    t = await team(client, store, actor)
    role = t.role

    response = await client.delete(t.path, headers=bearer(t.actor))

    assert_answer(response, t, OWNER_ONLY)
    found = await client.get("/org/get", params={"organization_name": NAME})
    assert found.status_code == (404 if role in OWNER_ONLY else 200)


@each_role
async def test_only_the_owner_transfers_ownership(
    client: AsyncClient, store: Store, actor: Actor
) -> None:
    t = await team(client, store, actor)
    role = t.role
    target = await add_target(store, t, Role.MEMBER)

    response = await client.post(
        f"{t.path}/members/transfer-ownership",
        json={"account_id": target},
        headers=bearer(t.actor),
    )

    assert_answer(response, t, OWNER_ONLY)
    assert (await roles_now(client, t))[target] == ("owner" if role in OWNER_ONLY else "member")


def managing(target: Role) -> frozenset[Role]:
    """Who may invite, remove, or change the role of someone with role `target` (making an
    owner is handing over ownership: owner only)."""
    return OWNER_ONLY if target in (Role.ADMIN, Role.OWNER) else MANAGERS


INVITABLE = [Role.MEMBER, Role.VIEWER, Role.BILLING_ADMIN, Role.ADMIN]


@each_role
@pytest.mark.parametrize("invited", INVITABLE, ids=lambda role: f"invite-{role.value}")
async def test_inviting_follows_the_table(
    client: AsyncClient, store: Store, actor: Actor, invited: Role
) -> None:
    t = await team(client, store, actor)
    role = t.role

    response = await client.post(
        f"{t.path}/invitations",
        json={"email": "newcomer@techcorp.com", "role": invited.value},
        headers=bearer(t.actor),
    )

    assert_answer(response, t, managing(invited), ok=201)
    pending = await as_owner(client, t, "/invitations")
    if role in managing(invited):
        assert [(i["email"], i["role"]) for i in pending["items"]] == [
            ("newcomer@techcorp.com", invited.value)
        ]
    else:
        assert pending["total"] == 0


# (from, to): each role of the table's "member, viewer, billing_admin" row, then the admin row
# both ways (an admin demoted, someone made admin), then someone made a second owner.
ROLE_CHANGES = [
    (Role.MEMBER, Role.VIEWER),
    (Role.VIEWER, Role.BILLING_ADMIN),
    (Role.BILLING_ADMIN, Role.MEMBER),
    (Role.ADMIN, Role.MEMBER),
    (Role.MEMBER, Role.ADMIN),
    (Role.MEMBER, Role.OWNER),
]


@each_role
@pytest.mark.parametrize(("before", "after"), ROLE_CHANGES, ids=lambda role: role.value)
async def test_changing_a_role_follows_the_table(
    client: AsyncClient, store: Store, actor: Actor, before: Role, after: Role
) -> None:
    t = await team(client, store, actor)
    role = t.role
    target = await add_target(store, t, before)
    allowed = managing(before) & managing(after)

    response = await client.patch(
        f"{t.path}/members/{target}", json={"role": after.value}, headers=bearer(t.actor)
    )

    assert_answer(response, t, allowed)
    assert (await roles_now(client, t))[target] == (after if role in allowed else before).value


@each_role
@pytest.mark.parametrize("removed", INVITABLE, ids=lambda role: f"remove-{role.value}")
async def test_removing_a_member_follows_the_table(
    client: AsyncClient, store: Store, actor: Actor, removed: Role
) -> None:
    t = await team(client, store, actor)
    role = t.role
    target = await add_target(store, t, removed)

    response = await client.delete(f"{t.path}/members/{target}", headers=bearer(t.actor))

    assert_answer(response, t, managing(removed))
    assert (target in await roles_now(client, t)) is (role not in managing(removed))


@pytest.mark.parametrize(
    "role", [Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER], ids=lambda role: role.value
)
async def test_a_role_change_that_changes_nothing_is_refused_all_the_same(
    client: AsyncClient, store: Store, role: Role
) -> None:
    t = await team(client, store, role)
    target = await add_target(store, t, Role.MEMBER)

    response = await client.patch(
        f"{t.path}/members/{target}", json={"role": "member"}, headers=bearer(t.actor)
    )

    assert (await roles_now(client, t))[target] == "member"
    assert response.status_code == 403, response.text


@each_role
async def test_only_the_owner_suspends(client: AsyncClient, store: Store, actor: Actor) -> None:
    t = await team(client, store, actor)
    role = t.role

    response = await client.post(f"{t.path}/suspend", headers=bearer(t.actor))

    assert_answer(response, t, OWNER_ONLY)
    status = (await as_owner(client, t))["status"]
    assert status == ("suspended" if role in OWNER_ONLY else "active")


@each_role
async def test_only_the_owner_reactivates(client: AsyncClient, store: Store, actor: Actor) -> None:
    t = await team(client, store, actor)
    role = t.role
    owner = await login(client)
    assert (await client.post(f"{t.path}/suspend", headers=bearer(owner))).status_code == 200

    response = await client.post(f"{t.path}/reactivate", headers=bearer(t.actor))

    assert_answer(response, t, OWNER_ONLY)
    status = (await as_owner(client, t))["status"]
    assert status == ("active" if role in OWNER_ONLY else "suspended")


async def test_an_admin_refused_an_owners_role_change_is_told_which_action(
    client: AsyncClient, store: Store
) -> None:
    t = await team(client, store, Role.ADMIN)
    owner = (await client.get("/admin/me", headers=bearer(await login(client)))).json()
    member = await add_target(store, t, Role.MEMBER)

    demote = await client.patch(
        f"{t.path}/members/{owner['admin_id']}", json={"role": "member"}, headers=bearer(t.actor)
    )
    remove = await client.delete(f"{t.path}/members/{owner['admin_id']}", headers=bearer(t.actor))
    promote = await client.patch(
        f"{t.path}/members/{member}", json={"role": "owner"}, headers=bearer(t.actor)
    )

    for refused in (demote, remove, promote):
        assert refused.status_code == 403, refused.text
        assert refused.json() == {
            "detail": "The admin role does not allow this: promote to / demote / remove owner",
            "code": "role_not_allowed",
        }
    assert (await roles_now(client, t))[owner["admin_id"]] == "owner"
