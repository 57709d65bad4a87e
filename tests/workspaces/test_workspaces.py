"""Workspaces through HTTP: the default one, management by role, switching, data scoping."""

import logging
import re
from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.db.schema import WORKSPACE_MEMBERS, WORKSPACES
from app.db.store import Store
from app.workspaces.migration import migrate_to_workspaces
from tests.support import add_account, bearer, created_org, login, tenants


class Org:
    def __init__(self, client: AsyncClient, org_id: str) -> None:
        self.client = client
        self.id = org_id
        self.base = f"/api/v1/organizations/{org_id}"

    async def call(self, method: str, path: str, token: str, **kwargs: Any) -> Response:
        return await self.client.request(method, self.base + path, headers=bearer(token), **kwargs)

    async def workspace(self, token: str, name: str) -> str:
        response = await self.call("POST", "/workspaces", token, json={"name": name})
        assert response.status_code == 201, response.text
        workspace_id: str = response.json()["id"]
        return workspace_id

    async def switch(self, token: str, workspace_id: str | None) -> Response:
        body = {"organization_id": self.id, "workspace_id": workspace_id}
        return await self.client.post("/api/v1/auth/switch", json=body, headers=bearer(token))


@pytest.fixture
async def org(client: AsyncClient) -> Org:
    return Org(client, (await created_org(client))["id"])


@pytest.fixture
async def owner(client: AsyncClient, org: Org) -> str:
    return await login(client)


async def member_token(
    client: AsyncClient, store: Store, org: Org, email: str, role: Role
) -> tuple[str, ObjectId]:
    account = await add_account(store, org.id, email, role)
    return await login(client, email=email), account


async def test_every_organization_has_a_permanent_default_workspace(org: Org, owner: str) -> None:
    listed = (await org.call("GET", "/workspaces", owner)).json()

    [default] = listed["items"]
    assert default["is_default"] is True
    assert default["name"] == "Default"
    assert default["members"] == 1
    assert (await org.call("DELETE", f"/workspaces/{default['id']}", owner)).status_code == 409
    assert (
        await org.call("POST", f"/workspaces/{default['id']}/archive", owner)
    ).status_code == 409


async def workspace_roles_everywhere(
    client: AsyncClient, org: Org, token: str
) -> tuple[dict[str, str | None], ...]:
    """The caller's role per workspace name as the list, each read, `/auth/me` and each
    member list tell it."""
    account = (await client.get("/admin/me", headers=bearer(token))).json()["admin_id"]
    listed = (await org.call("GET", "/workspaces", token)).json()["items"]
    reads, member_lists = {}, {}
    for workspace in listed:
        path = f"/workspaces/{workspace['id']}"
        reads[workspace["name"]] = (await org.call("GET", path, token)).json()["your_role"]
        members = (await org.call("GET", f"{path}/members", token)).json()["items"]
        roles = [m["role"] for m in members if m["account_id"] == account]
        member_lists[workspace["name"]] = roles[0] if roles else None
    me = (await client.get("/api/v1/auth/me", headers=bearer(token))).json()
    [here] = [m for m in me["memberships"] if m["organization_id"] == org.id]
    return (
        {w["name"]: w["your_role"] for w in listed},
        reads,
        {w["name"]: w["role"] for w in here["workspaces"]},
        member_lists,
    )


async def test_the_creators_workspace_role_is_the_same_everywhere(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    admin, admin_id = await member_token(client, store, org, "admin@x.example", Role.ADMIN)
    sales = await org.workspace(owner, "Sales")
    await org.call("PUT", f"/workspaces/{sales}/members/{admin_id}", owner, json={"role": "viewer"})

    as_owner = await workspace_roles_everywhere(client, org, owner)
    as_admin = await workspace_roles_everywhere(client, org, admin)

    assert as_owner == ({"Default": "admin", "Sales": None},) * 4
    assert as_admin == ({"Default": None, "Sales": "viewer"},) * 4
    # A viewer's seat takes none of an organization admin's rights away.
    renamed = await org.call("PATCH", f"/workspaces/{sales}", admin, json={"name": "Sales EU"})
    assert renamed.status_code == 200, renamed.text


async def test_owners_and_admins_create_workspaces_others_may_not(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    admin, _ = await member_token(client, store, org, "admin@x.example", Role.ADMIN)
    member, _ = await member_token(client, store, org, "member@x.example", Role.MEMBER)

    assert (await org.call("POST", "/workspaces", owner, json={"name": "Sales"})).status_code == 201
    assert (await org.call("POST", "/workspaces", admin, json={"name": "Ops"})).status_code == 201
    assert (await org.call("POST", "/workspaces", member, json={"name": "X"})).status_code == 403
    duplicate = await org.call("POST", "/workspaces", owner, json={"name": "  sales "})
    assert duplicate.status_code == 409


async def test_members_see_only_their_workspaces(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    sales = await org.workspace(owner, "Sales")
    await org.workspace(owner, "Finance")
    member, account = await member_token(client, store, org, "member@x.example", Role.MEMBER)
    await org.call("PUT", f"/workspaces/{sales}/members/{account}", owner, json={"role": "editor"})

    mine = (await org.call("GET", "/workspaces", member)).json()
    everything = (await org.call("GET", "/workspaces", owner)).json()

    assert sorted(w["name"] for w in mine["items"]) == ["Default", "Sales"]
    assert {w["your_role"] for w in mine["items"]} == {"editor"}
    assert everything["total"] == 3
    hidden = next(w["id"] for w in everything["items"] if w["name"] == "Finance")
    assert (await org.call("GET", f"/workspaces/{hidden}", member)).status_code == 403


async def test_workspace_admins_manage_their_workspace_only(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    sales = await org.workspace(owner, "Sales")
    finance = await org.workspace(owner, "Finance")
    lead, account = await member_token(client, store, org, "lead@x.example", Role.MEMBER)
    await org.call("PUT", f"/workspaces/{sales}/members/{account}", owner, json={"role": "admin"})
    await org.call(
        "PUT", f"/workspaces/{finance}/members/{account}", owner, json={"role": "viewer"}
    )

    renamed = await org.call("PATCH", f"/workspaces/{sales}", lead, json={"name": "Sales EU"})
    refused = await org.call("PATCH", f"/workspaces/{finance}", lead, json={"name": "Mine"})
    delete = await org.call("DELETE", f"/workspaces/{sales}", lead)

    assert renamed.json()["name"] == "Sales EU"
    assert refused.status_code == 403
    assert delete.status_code == 403


async def test_only_organization_members_join_workspaces(org: Org, owner: str) -> None:
    sales = await org.workspace(owner, "Sales")

    response = await org.call(
        "PUT", f"/workspaces/{sales}/members/{ObjectId()}", owner, json={"role": "editor"}
    )

    assert response.status_code == 409


async def test_switching_into_a_workspace_and_scoped_documents(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    sales = await org.workspace(owner, "Sales")
    member, account = await member_token(client, store, org, "member@x.example", Role.MEMBER)
    outsider, _ = await member_token(client, store, org, "outsider@x.example", Role.MEMBER)
    await org.call("PUT", f"/workspaces/{sales}/members/{account}", owner, json={"role": "editor"})

    switched = await org.switch(member, sales)
    assert switched.status_code == 200
    in_sales = switched.json()["access_token"]
    assert (await org.switch(outsider, sales)).status_code == 403
    doc = (await org.call("POST", "/documents", in_sales, json={"deal": 1})).json()
    await org.call("POST", "/documents", member, json={"note": "default"})

    assert doc["workspace_id"] == sales
    sales_view = (await org.call("GET", "/documents", in_sales)).json()
    default_view = (await org.call("GET", "/documents", member)).json()
    owner_view = (await org.call("GET", "/documents", owner)).json()
    owner_sales = (
        await org.call("GET", "/documents", owner, params={"workspace_id": sales})
    ).json()
    assert [d.get("deal") for d in sales_view["items"]] == [1]
    assert [d.get("note") for d in default_view["items"]] == ["default"]
    assert owner_view["total"] == 2
    assert owner_sales["total"] == 1
    assert (await org.call("GET", f"/documents/{doc['id']}", member)).status_code == 404
    assert (await org.call("GET", f"/documents/{doc['id']}", outsider)).status_code == 404
    me = (await client.get("/api/v1/auth/me", headers=bearer(in_sales))).json()
    assert me["workspace_id"] == sales
    assert sorted(w["name"] for w in me["memberships"][0]["workspaces"]) == ["Default", "Sales"]


async def test_viewers_read_and_archived_workspaces_refuse_writes(
    client: AsyncClient, store: Store, org: Org, owner: str
) -> None:
    sales = await org.workspace(owner, "Sales")
    member, account = await member_token(client, store, org, "member@x.example", Role.MEMBER)
    await org.call("PUT", f"/workspaces/{sales}/members/{account}", owner, json={"role": "viewer"})
    in_sales = (await org.switch(member, sales)).json()["access_token"]
    owner_in_sales = (await org.switch(owner, sales)).json()["access_token"]
    await org.call("POST", "/documents", owner_in_sales, json={"n": 1})

    assert (await org.call("GET", "/documents", in_sales)).json()["total"] == 1
    assert (await org.call("POST", "/documents", in_sales, json={"n": 2})).status_code == 403
    await org.call("POST", f"/workspaces/{sales}/archive", owner)
    archived = await org.call("POST", "/documents", owner_in_sales, json={"n": 3})
    assert archived.status_code == 409
    assert (await org.switch(owner, sales)).status_code == 409
    await org.call("POST", f"/workspaces/{sales}/unarchive", owner)
    assert (await org.call("POST", "/documents", owner_in_sales, json={"n": 3})).status_code == 201


async def test_deleting_a_workspace_with_data_needs_confirmation(
    org: Org, owner: str, store: Store
) -> None:
    sales = await org.workspace(owner, "Sales")
    in_sales = (await org.switch(owner, sales)).json()["access_token"]
    for n in range(3):
        await org.call("POST", "/documents", in_sales, json={"n": n})
    await org.call("POST", "/documents", owner, json={"keep": True})

    unconfirmed = await org.call("DELETE", f"/workspaces/{sales}", owner)
    stats = (await org.call("GET", f"/workspaces/{sales}", owner)).json()
    confirmed = await org.call("DELETE", f"/workspaces/{sales}", owner, params={"confirm": "true"})

    assert unconfirmed.status_code == 409
    assert stats["documents"] == 3
    assert confirmed.status_code == 200
    assert (await org.call("GET", "/documents", owner)).json()["total"] == 1
    assert await store.master[WORKSPACES].count_documents({"_id": ObjectId(sales)}) == 0
    assert (
        await store.master[WORKSPACE_MEMBERS].count_documents({"workspace_id": ObjectId(sales)})
        == 0
    )


async def test_invited_members_start_in_the_default_workspace(
    client: AsyncClient, org: Org, owner: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="app.invitations.delivery"):
        await org.call(
            "POST", "/invitations", owner, json={"email": "new@x.example", "role": "viewer"}
        )
    token = re.search(r"token=([A-Za-z0-9_-]+)", caplog.text)
    assert token is not None
    accepted = await client.post(
        "/api/v1/invitations/accept",
        json={"token": token.group(1), "password": "NewPassword123"},
    )
    new = accepted.json()["access_token"]

    [default] = (await org.call("GET", "/workspaces", new)).json()["items"]
    assert default["is_default"] is True
    assert default["your_role"] == "viewer"


async def test_organizations_from_before_get_a_default_workspace(store: Store, org: Org) -> None:
    await store.master[WORKSPACES].delete_many({})
    await store.master[WORKSPACE_MEMBERS].delete_many({})
    await tenants(store)["tenant_tech_innovations_corp"].insert_one({"old": True})

    assert await migrate_to_workspaces(store) == 1
    assert await migrate_to_workspaces(store) == 0

    default = await store.master[WORKSPACES].find_one({"is_default": True})
    assert default is not None
    old = await tenants(store)["tenant_tech_innovations_corp"].find_one({"old": True})
    assert old is not None
    assert old["workspace_id"] == default["_id"]
    assert await store.master[WORKSPACE_MEMBERS].count_documents({}) == 1


@pytest.mark.parametrize(
    ("role", "sees_all", "creates"),
    [
        (Role.ADMIN, True, True),
        (Role.BILLING_ADMIN, False, False),
        (Role.MEMBER, False, False),
        (Role.VIEWER, False, False),
    ],
)
async def test_each_organization_role_over_workspaces(
    client: AsyncClient,
    store: Store,
    org: Org,
    owner: str,
    role: Role,
    sees_all: bool,
    creates: bool,
) -> None:
    secret = await org.workspace(owner, "Board")
    token, _ = await member_token(client, store, org, "someone@x.example", role)

    listed = (await org.call("GET", "/workspaces", token)).json()
    created = await org.call("POST", "/workspaces", token, json={"name": "Mine"})
    renamed = await org.call("PATCH", f"/workspaces/{secret}", token, json={"name": "Taken"})
    members = await org.call("GET", f"/workspaces/{secret}/members", token)

    names = {w["name"] for w in listed["items"]}
    assert ("Board" in names) is sees_all
    assert created.status_code == (201 if creates else 403)
    assert renamed.status_code == (200 if sees_all else 403)
    assert members.status_code == (200 if sees_all else 403)
