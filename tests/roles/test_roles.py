"""Custom roles through the HTTP API: the permission catalogue, defining roles, holders
getting exactly what a role grants (on their next request, whatever token they hold), and
every attempt to grant more than one holds refused."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.access.permissions import BUILTIN_PERMISSIONS, CATALOGUE, Permission
from app.access.roles import Role
from app.config import Settings
from app.db.schema import ROLES
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.outbox import Outbox
from tests.support import add_account, bearer, created_org, login

READER = ["documents.read", "organization.read"]


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    limited = settings.model_copy(update={"custom_roles_per_organization": 3})
    return create_app(limited, store_opener=lambda _: borrowed(store))


class Org:
    def __init__(self, client: AsyncClient, store: Store, token: str, org_id: str) -> None:
        self.client = client
        self.store = store
        self.owner = bearer(token)
        self.id = org_id

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/organizations/{self.id}{suffix}"

    async def define(
        self, slug: str, permissions: list[str], as_: dict[str, str] | None = None
    ) -> Response:
        return await self.client.post(
            self.path("/roles"),
            json={"slug": slug, "name": slug.title(), "permissions": permissions},
            headers=as_ or self.owner,
        )

    async def defined(self, slug: str, permissions: list[str]) -> dict[str, Any]:
        response = await self.define(slug, permissions)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def member(self, email: str, role: str) -> tuple[str, dict[str, str]]:
        """A member with `role` and a token of theirs."""
        account = await add_account(self.store, self.id, email, role)
        return str(account), bearer(await login(self.client, email=email))

    async def key(self, role: str) -> dict[str, str]:
        response = await self.client.post(
            self.path("/api-keys"), json={"name": "ci", "role": role}, headers=self.owner
        )
        assert response.status_code == 201, response.text
        return bearer(response.json()["secret"])

    async def role_of(self, account_id: str) -> str:
        response = await self.client.get(self.path(f"/members/{account_id}"), headers=self.owner)
        assert response.status_code == 200, response.text
        role: str = response.json()["role"]
        return role

    async def seat_as_editor(self, account_id: str) -> None:
        """Edit rights in the default workspace, where a new holder starts as a viewer."""
        listed = (await self.client.get(self.path("/workspaces"), headers=self.owner)).json()
        [default] = [w for w in listed["items"] if w["is_default"]]
        response = await self.client.put(
            self.path(f"/workspaces/{default['id']}/members/{account_id}"),
            json={"role": "editor"},
            headers=self.owner,
        )
        assert response.status_code == 200, response.text

    async def patch_role(self, slug: str, permissions: list[str]) -> None:
        response = await self.client.patch(
            self.path(f"/roles/{slug}"), json={"permissions": permissions}, headers=self.owner
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def org(client: AsyncClient, store: Store) -> Org:
    created = await created_org(client)
    return Org(client, store, await login(client), created["id"])


def refused(response: Response, code: str = "role_not_allowed") -> None:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == code, response.text


async def test_the_catalogue_lists_every_permission_for_any_signed_in_caller(org: Org) -> None:
    _, viewer = await org.member("viewer@techcorp.com", "viewer")
    key = await org.key("viewer")

    by_viewer = await org.client.get("/api/v1/permissions", headers=viewer)
    by_key = await org.client.get("/api/v1/permissions", headers=key)
    anonymous = await org.client.get("/api/v1/permissions")

    assert by_viewer.status_code == 200, by_viewer.text
    listed = {p["name"]: p for p in by_viewer.json()["permissions"]}
    assert set(listed) == {p.value for p in Permission}
    assert listed["organization.delete"]["owner_only"] is True
    assert listed["documents.write"]["owner_only"] is False
    assert listed["documents.write"]["builtin_roles"] == ["owner", "admin", "member"]
    assert (
        listed["members.manage"]["description"] == CATALOGUE[Permission.MANAGE_MEMBERS].description
    )
    assert by_key.json() == by_viewer.json()
    assert anonymous.status_code == 401


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_every_role_reads_the_built_in_roles_with_their_permissions(
    org: Org, role: Role
) -> None:
    await org.defined("support", READER)
    caller = org.owner if role is Role.OWNER else (await org.member("m@techcorp.com", role))[1]

    listed = await org.client.get(org.path("/roles"), headers=caller)
    one = await org.client.get(org.path("/roles/billing_admin"), headers=caller)

    assert listed.status_code == 200, listed.text
    roles = listed.json()["roles"]
    assert [r["slug"] for r in roles] == [*(r.value for r in Role), "support"]
    for shown, built_in in zip(roles, Role, strict=False):
        assert shown["builtin"] is True
        assert shown["permissions"] == sorted(p.value for p in BUILTIN_PERMISSIONS[built_in])
    assert roles[-1]["builtin"] is False
    assert roles[-1]["permissions"] == READER
    assert one.json()["permissions"] == ["billing.edit", "billing.read", "organization.read"]


async def test_an_owner_defines_reads_changes_and_deletes_a_role(org: Org) -> None:
    created = await org.define("support", READER)
    read = await org.client.get(created.headers["location"], headers=org.owner)
    changed = await org.client.patch(
        org.path("/roles/support"),
        json={"name": "Support desk", "permissions": [*READER, "audit.read"]},
        headers=org.owner,
    )
    deleted = await org.client.delete(org.path("/roles/support"), headers=org.owner)
    gone = await org.client.get(org.path("/roles/support"), headers=org.owner)

    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "support"
    assert read.json()["permissions"] == READER
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Support desk"
    assert changed.json()["permissions"] == ["audit.read", *READER]
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["moved"] == {"members": 0, "invitations": 0, "api_keys": 0}
    assert gone.status_code == 404
    assert gone.json()["code"] == "role_not_found"


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_only_owners_and_admins_define_change_and_delete_roles(org: Org, role: Role) -> None:
    await org.defined("support", READER)
    caller = org.owner if role is Role.OWNER else (await org.member("m@techcorp.com", role))[1]
    allowed = role in (Role.OWNER, Role.ADMIN)

    created = await org.define("helpdesk", READER, as_=caller)
    changed = await org.client.patch(
        org.path("/roles/support"), json={"name": "Renamed"}, headers=caller
    )
    deleted = await org.client.delete(org.path("/roles/support"), headers=caller)

    if allowed:
        assert [created.status_code, changed.status_code, deleted.status_code] == [201, 200, 200]
    else:
        for response in (created, changed, deleted):
            refused(response)
            assert response.json()["detail"] == (
                f"The {role.value} role does not allow this: "
                "create / edit / delete the organization's custom roles"
            )
        listed = (await org.client.get(org.path("/roles"), headers=org.owner)).json()["roles"]
        assert [r["name"] for r in listed if not r["builtin"]] == ["Support"]


@pytest.mark.parametrize(
    ("permissions", "code"),
    [
        (["organization.read", "organization.delete"], "role_not_allowed"),
        (["owners.manage"], "role_not_allowed"),
        (["admins.manage"], "role_not_allowed"),
        (["organization.read", "billing.edit"], "permissions_not_held"),
    ],
    ids=["owner-only", "owners", "admins", "not-held"],
)
async def test_an_admin_defines_no_role_above_their_own(
    org: Org, permissions: list[str], code: str
) -> None:
    _, admin = await org.member("admin@techcorp.example", "admin")

    response = await org.define("bigger", permissions, as_=admin)

    refused(response, code)
    listed = (await org.client.get(org.path("/roles"), headers=org.owner)).json()["roles"]
    assert all(r["builtin"] for r in listed)


async def test_an_owner_may_put_owner_only_permissions_in_a_role(org: Org) -> None:
    response = await org.define("deputy", ["organization.read", "organization.delete"])

    assert response.status_code == 201, response.text


async def test_an_admin_cannot_widen_a_role_beyond_their_own_permissions(org: Org) -> None:
    await org.defined("billing", ["organization.read", "billing.read"])
    _, admin = await org.member("admin@techcorp.example", "admin")

    widened = await org.client.patch(
        org.path("/roles/billing"),
        json={"permissions": ["organization.read", "billing.read", "billing.edit"]},
        headers=admin,
    )

    refused(widened, "permissions_not_held")
    shown = await org.client.get(org.path("/roles/billing"), headers=org.owner)
    assert shown.json()["permissions"] == ["billing.read", "organization.read"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "admin", "name": "x", "permissions": []}, "slug"),
        ({"slug": "Support", "name": "x", "permissions": []}, "slug"),
        ({"slug": "a:b", "name": "x", "permissions": []}, "slug"),
        ({"slug": "ok", "name": "x", "permissions": ["documents.destroy"]}, "permissions"),
        ({"slug": "ok", "name": "x", "permissions": ["audit.read", "audit.read"]}, "permissions"),
        ({"slug": "ok", "name": "", "permissions": []}, "name"),
    ],
    ids=["built-in", "upper-case", "colon", "unknown", "twice", "no-name"],
)
async def test_a_bad_role_definition_is_a_400_naming_the_field(
    org: Org, body: dict[str, Any], field: str
) -> None:
    response = await org.client.post(org.path("/roles"), json=body, headers=org.owner)

    assert response.status_code == 400, response.text
    assert [error["loc"][1] for error in response.json()["detail"]] == [field]


async def test_a_slug_is_unique_in_its_organization_only(org: Org, client: AsyncClient) -> None:
    await org.defined("support", READER)
    await created_org(client, "Other Corp", "owner@other.example")
    other_token = await login(client, "owner@other.example")
    other_id = (await client.get("/api/v1/auth/me", headers=bearer(other_token))).json()[
        "organization_id"
    ]
    other = Org(client, org.store, other_token, other_id)

    again = await org.define("support", READER)
    elsewhere = await other.define("support", READER)

    assert again.status_code == 409
    assert again.json()["code"] == "role_slug_taken"
    assert elsewhere.status_code == 201, elsewhere.text
    seen_there = (await client.get(other.path("/roles/support"), headers=other.owner)).json()
    assert seen_there["permissions"] == READER


async def test_an_organization_defines_at_most_its_limit_of_roles(org: Org) -> None:
    for number in range(3):
        await org.defined(f"role{number}", READER)

    over = await org.define("one-more", READER)

    assert over.status_code == 409
    assert over.json()["code"] == "role_limit_reached"
    listed = (await org.client.get(org.path("/roles"), headers=org.owner)).json()["roles"]
    assert len(listed) == 5 + 3


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
async def test_built_in_roles_cannot_be_changed_or_deleted(org: Org, role: Role) -> None:
    changed = await org.client.patch(
        org.path(f"/roles/{role.value}"), json={"permissions": []}, headers=org.owner
    )
    deleted = await org.client.delete(org.path(f"/roles/{role.value}"), headers=org.owner)

    for response in (changed, deleted):
        refused(response, "builtin_role_fixed")
    shown = (await org.client.get(org.path(f"/roles/{role.value}"), headers=org.owner)).json()
    assert shown["permissions"] == sorted(p.value for p in BUILTIN_PERMISSIONS[role])


async def test_a_holder_gets_exactly_what_the_role_grants(org: Org) -> None:
    await org.defined("reader", READER)
    stored = await org.client.post(org.path("/documents"), json={"n": 1}, headers=org.owner)
    _, reader = await org.member("reader@techcorp.com", "reader")

    read = await org.client.get(org.path(f"/documents/{stored.json()['id']}"), headers=reader)
    write = await org.client.post(org.path("/documents"), json={"n": 2}, headers=reader)
    audit = await org.client.get(org.path("/audit-log"), headers=reader)
    me = await org.client.get(org.path(), headers=reader)

    assert read.status_code == 200, read.text
    refused(write)
    assert write.json()["detail"] == "The reader role does not allow this: write tenant documents"
    refused(audit)
    assert me.json()["role"] == "reader"


async def test_a_permission_change_reaches_tokens_and_keys_already_issued(org: Org) -> None:
    await org.defined("reader", READER)
    reader_id, token = await org.member("reader@techcorp.com", "reader")
    await org.seat_as_editor(reader_id)
    key = await org.key("reader")

    before = [
        await org.client.post(org.path("/documents"), json={"n": 1}, headers=who)
        for who in (token, key)
    ]
    await org.patch_role("reader", [*READER, "documents.write"])
    granted = [
        await org.client.post(org.path("/documents"), json={"n": 2}, headers=who)
        for who in (token, key)
    ]
    await org.patch_role("reader", ["organization.read"])
    withdrawn = [await org.client.get(org.path("/documents"), headers=who) for who in (token, key)]

    for response in before:
        refused(response)
    for response in granted:
        assert response.status_code == 201, response.text
    for response in withdrawn:
        refused(response)


async def test_a_role_held_is_not_deleted_and_the_refusal_counts_its_holders(org: Org) -> None:
    await org.defined("support", READER)
    await org.member("one@techcorp.com", "support")
    await org.member("two@techcorp.com", "support")
    await org.key("support")
    invited = await org.client.post(
        org.path("/invitations"),
        json={"email": "new@techcorp.com", "role": "support"},
        headers=org.owner,
    )
    assert invited.status_code == 201, invited.text

    response = await org.client.delete(org.path("/roles/support"), headers=org.owner)

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "role_in_use"
    assert body["holders"] == {"members": 2, "invitations": 1, "api_keys": 1}
    assert body["holder_count"] == 4
    still = await org.client.get(org.path("/roles/support"), headers=org.owner)
    assert still.status_code == 200


async def test_a_delete_with_a_replacement_moves_every_holder_first(org: Org) -> None:
    await org.defined("support", READER)
    member_id, token = await org.member("one@techcorp.com", "support")
    key = await org.key("support")
    await org.client.post(
        org.path("/invitations"),
        json={"email": "new@techcorp.com", "role": "support"},
        headers=org.owner,
    )

    response = await org.client.delete(
        org.path("/roles/support"), params={"replacement": "member"}, headers=org.owner
    )

    assert response.status_code == 200, response.text
    assert response.json()["moved"] == {"members": 1, "invitations": 1, "api_keys": 1}
    assert await org.role_of(member_id) == "member"
    pending = (await org.client.get(org.path("/invitations"), headers=org.owner)).json()
    assert [i["role"] for i in pending["items"]] == ["member"]
    keys = (await org.client.get(org.path("/api-keys"), headers=org.owner)).json()
    assert [k["role"] for k in keys["items"]] == ["member"]
    # The key acts with its new role at once; the member's token went with the role change.
    written = await org.client.post(org.path("/documents"), json={"n": 1}, headers=key)
    assert written.status_code == 201, written.text
    assert (await org.client.get(org.path(), headers=token)).status_code == 401
    again = bearer(await login(org.client, email="one@techcorp.com"))
    assert (await org.client.get(org.path(), headers=again)).json()["role"] == "member"


@pytest.mark.parametrize(
    ("replacement", "status", "code"),
    [
        ("support", 400, "invalid_input"),
        ("owner", 400, "invalid_input"),
        ("nobody", 400, "invalid_input"),
        ("admin", 403, "role_not_allowed"),
    ],
)
async def test_a_replacement_must_be_another_role_the_caller_may_give(
    org: Org, replacement: str, status: int, code: str
) -> None:
    await org.defined("support", READER)
    member_id, _ = await org.member("one@techcorp.com", "support")
    _, admin = await org.member("admin@techcorp.example", "admin")

    response = await org.client.delete(
        org.path("/roles/support"), params={"replacement": replacement}, headers=admin
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert await org.role_of(member_id) == "support"


async def test_a_holder_of_a_role_since_gone_holds_no_permission(org: Org) -> None:
    await org.defined("support", READER)
    _, token = await org.member("one@techcorp.com", "support")
    key = await org.key("support")
    # As a delete interrupted between its steps could leave it.
    await org.store.master[ROLES].delete_many({})

    for who in (token, key):
        response = await org.client.get(org.path("/documents"), headers=who)
        refused(response)
        assert response.json()["detail"] == (
            "The support role does not allow this: read tenant documents"
        )


async def test_assigning_a_role_takes_every_permission_it_grants(org: Org) -> None:
    await org.defined("billing", ["organization.read", "billing.read", "billing.edit"])
    member_id, _ = await org.member("one@techcorp.com", "member")
    _, admin = await org.member("admin@techcorp.example", "admin")

    change = await org.client.patch(
        org.path(f"/members/{member_id}"), json={"role": "billing"}, headers=admin
    )
    invite = await org.client.post(
        org.path("/invitations"), json={"email": "x@techcorp.com", "role": "billing"}, headers=admin
    )
    key = await org.client.post(
        org.path("/api-keys"), json={"name": "ci", "role": "billing"}, headers=admin
    )
    by_owner = await org.client.patch(
        org.path(f"/members/{member_id}"), json={"role": "billing"}, headers=org.owner
    )

    for response in (change, invite, key):
        refused(response, "permissions_not_held")
    assert by_owner.status_code == 200, by_owner.text
    assert by_owner.json()["role"] == "billing"


async def test_a_custom_role_manager_cannot_raise_anyone_above_itself(org: Org) -> None:
    managing = ["organization.read", "members.manage", "roles.manage"]
    await org.defined("lead", managing)
    await org.defined("writer", ["organization.read", "documents.write"])
    lead_id, lead = await org.member("lead@techcorp.com", "lead")
    member_id, _ = await org.member("one@techcorp.com", "member")
    admin_id, _ = await org.member("admin@techcorp.example", "admin")

    self_promotion = await org.client.patch(
        org.path(f"/members/{lead_id}"), json={"role": "admin"}, headers=lead
    )
    demote_admin = await org.client.patch(
        org.path(f"/members/{admin_id}"), json={"role": "member"}, headers=lead
    )
    give_writer = await org.client.patch(
        org.path(f"/members/{member_id}"), json={"role": "writer"}, headers=lead
    )
    define_manager = await org.define("manager", managing, as_=lead)
    define_wider = await org.define("wider", ["organization.read", "audit.read"], as_=lead)
    widen_own = await org.client.patch(
        org.path("/roles/lead"), json={"permissions": [*managing, "audit.read"]}, headers=lead
    )
    # A member-class role is still the lead's to give: a viewer is within it.
    demote_member = await org.client.patch(
        org.path(f"/members/{member_id}"), json={"role": "viewer"}, headers=lead
    )

    # A role holding members.manage is admin-class: giving, defining or changing one (the
    # lead's own included) takes admins.manage, which only owners hold.
    for response in (self_promotion, demote_admin, define_manager, widen_own):
        refused(response)
    for response in (give_writer, define_wider):
        refused(response, "permissions_not_held")
    assert demote_member.status_code == 200, demote_member.text
    assert await org.role_of(lead_id) == "lead"
    assert await org.role_of(admin_id) == "admin"


async def test_a_role_with_every_permission_is_still_not_an_owner(org: Org) -> None:
    everything = [p.value for p in Permission]
    await org.defined("deputy", everything)
    deputy_id, deputy = await org.member("deputy@techcorp.com", "deputy")
    me = (await org.client.get("/api/v1/auth/me", headers=org.owner)).json()

    demote_self = await org.client.patch(
        org.path(f"/members/{me['account_id']}"), json={"role": "deputy"}, headers=org.owner
    )
    leave = await org.client.post(org.path("/members/leave"), headers=org.owner)
    remove_owner = await org.client.delete(org.path(f"/members/{me['account_id']}"), headers=deputy)

    for response in (demote_self, leave, remove_owner):
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "last_owner"
    assert await org.role_of(me["account_id"]) == "owner"
    assert await org.role_of(deputy_id) == "deputy"


async def test_an_invitation_with_a_custom_role_joins_with_it(org: Org, outbox: Outbox) -> None:
    await org.defined("reader", READER)
    invited = await org.client.post(
        org.path("/invitations"),
        json={"email": "new@techcorp.com", "role": "reader"},
        headers=org.owner,
    )
    assert invited.status_code == 201, invited.text

    accepted = await org.client.post(
        "/api/v1/invitations/accept",
        json={"token": outbox.last_token_for("new@techcorp.com"), "password": "Joined-Pw-12"},
    )

    assert accepted.status_code == 200, accepted.text
    token = bearer(accepted.json()["access_token"])
    assert (await org.client.get(org.path(), headers=token)).json()["role"] == "reader"
    assert (await org.client.get(org.path("/documents"), headers=token)).status_code == 200
    refused(await org.client.post(org.path("/documents"), json={"n": 1}, headers=token))


async def test_an_unknown_role_is_refused_wherever_a_role_is_given(org: Org) -> None:
    member_id, _ = await org.member("one@techcorp.com", "member")

    answers = [
        await org.client.patch(
            org.path(f"/members/{member_id}"), json={"role": "nobody"}, headers=org.owner
        ),
        await org.client.post(
            org.path("/invitations"),
            json={"email": "x@techcorp.com", "role": "nobody"},
            headers=org.owner,
        ),
        await org.client.post(
            org.path("/api-keys"), json={"name": "ci", "role": "nobody"}, headers=org.owner
        ),
    ]

    for response in answers:
        assert response.status_code == 400, response.text
        assert response.json()["detail"][0]["loc"] == ["body", "role"]
    assert await org.role_of(member_id) == "member"


async def test_role_changes_are_events_and_audit_entries(org: Org) -> None:
    await org.defined("support", READER)
    assert (await org.define("support", READER)).status_code == 409  # no event for it
    await org.patch_role("support", [*READER, "audit.read"])
    await org.client.delete(org.path("/roles/support"), headers=org.owner)

    events = (await org.client.get(org.path("/events"), headers=org.owner)).json()["events"]
    audit = (await org.client.get(org.path("/audit-log"), headers=org.owner)).json()["items"]

    about_roles = [e for e in events if e["type"].startswith("role.")]
    assert [e["type"] for e in about_roles] == ["role.created", "role.updated", "role.deleted"]
    assert about_roles[1]["data"]["permissions"] == ["audit.read", *READER]
    assert about_roles[1]["data"]["previous_permissions"] == READER
    assert about_roles[2]["data"]["replacement"] is None
    entries = [a for a in audit if a["action"].startswith("role.")]
    assert [a["action"] for a in entries] == ["role.delete", "role.update", "role.create"]
    assert entries[1]["details"] == {"added": ["audit.read"], "removed": []}
    assert {a["target"] for a in entries} == {"support"}


async def test_a_custom_role_granting_workspaces_manage_sees_every_workspace(org: Org) -> None:
    await org.defined("curator", ["organization.read", "documents.read", "workspaces.manage"])
    created = await org.client.post(
        org.path("/workspaces"), json={"name": "Sales"}, headers=org.owner
    )
    assert created.status_code == 201, created.text
    _, curator = await org.member("curator@techcorp.com", "curator")
    _, viewer = await org.member("viewer@techcorp.com", "viewer")

    seen = (await org.client.get(org.path("/workspaces"), headers=curator)).json()["items"]
    seen_by_viewer = (await org.client.get(org.path("/workspaces"), headers=viewer)).json()

    assert sorted(w["name"] for w in seen) == ["Default", "Sales"]
    assert [w["name"] for w in seen_by_viewer["items"]] == ["Default"]


async def test_a_stored_role_naming_no_catalogue_permission_grants_it_not(org: Org) -> None:
    """A definition edited by hand to hold a name the catalogue lacks: the name is ignored."""
    await org.defined("support", READER)
    await org.store.master[ROLES].update_one(
        {"_id": f"{org.id}:support"}, {"$push": {"permissions": "everything"}}
    )
    _, token = await org.member("one@techcorp.com", "support")

    shown = await org.client.get(org.path("/roles/support"), headers=org.owner)
    listed = await org.client.get(org.path("/documents"), headers=token)

    assert shown.json()["permissions"] == READER
    assert listed.status_code == 200, listed.text


async def test_a_custom_role_that_transfers_ownership_keeps_its_own_role(org: Org) -> None:
    await org.defined("deputy", ["organization.read", "organization.delete"])
    deputy_id, deputy = await org.member("deputy@techcorp.com", "deputy")
    member_id, _ = await org.member("one@techcorp.com", "member")

    response = await org.client.post(
        org.path("/members/transfer-ownership"), json={"account_id": member_id}, headers=deputy
    )

    assert response.status_code == 200, response.text
    assert await org.role_of(member_id) == "owner"
    assert await org.role_of(deputy_id) == "deputy"
    events = (await org.client.get(org.path("/events"), headers=org.owner)).json()["events"]
    [transferred] = [e for e in events if e["type"] == "member.ownership_transferred"]
    assert transferred["data"]["previous_owner"]["role"] == "deputy"
