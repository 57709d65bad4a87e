"""One account in several organizations: choosing one at login, switching, who am I, and a
password change that ends every session in all of them."""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.db.schema import ACCOUNTS
from app.db.store import Store
from tests.support import EMAIL, NAME, PASSWORD, bearer, create_org, created_org, login, tenants

OTHER_NAME = "Partner Corp"
OTHER_EMAIL = "partner@techcorp.com"
NEW_PASSWORD = "Brand-New-Password-9"


@dataclass(frozen=True, slots=True)
class TwoOrganizations:
    """EMAIL owns `home` and is a member of `other`, which OTHER_EMAIL owns."""

    home: str
    other: str
    account_id: str
    token: str  # EMAIL's, acting for `home`


async def two_organizations(client: AsyncClient, store: Store) -> TwoOrganizations:
    home = (await created_org(client))["id"]
    other = (await created_org(client, OTHER_NAME, OTHER_EMAIL))["id"]
    token = await login(client)
    account_id = (await me(client, token))["account_id"]
    await MembershipRepository(store).add(ObjectId(account_id), ObjectId(other), Role.MEMBER)
    return TwoOrganizations(home, other, account_id, token)


async def me(client: AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def switch(client: AsyncClient, token: str, organization_id: str) -> Response:
    return await client.post(
        "/api/v1/auth/switch", json={"organization_id": organization_id}, headers=bearer(token)
    )


async def v1_login(
    client: AsyncClient, organization_id: str | None = None, password: str = PASSWORD
) -> Response:
    body = {"email": EMAIL, "password": password}
    if organization_id is not None:
        body["organization_id"] = organization_id
    return await client.post("/api/v1/auth/login", json=body)


async def status_of(client: AsyncClient, token: str, path: str) -> int:
    return (await client.get(f"/api/v1/organizations/{path}", headers=bearer(token))).status_code


async def test_switching_gives_a_token_for_the_other_organization(
    client: AsyncClient, store: Store
) -> None:
    orgs = await two_organizations(client, store)

    response = await switch(client, orgs.token, orgs.other)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["org_id"], body["role"], body["admin_id"]) == (
        orgs.other,
        "member",
        orgs.account_id,
    )
    switched = body["access_token"]
    assert await status_of(client, switched, orgs.other) == 200
    assert await status_of(client, switched, f"{orgs.other}/members") == 200
    assert await status_of(client, switched, orgs.home) == 403
    assert await status_of(client, switched, f"{orgs.home}/members") == 403
    assert await status_of(client, orgs.token, orgs.home) == 200  # the first token still works
    assert await status_of(client, orgs.token, orgs.other) == 403


async def test_the_switched_token_carries_the_role_held_there(
    client: AsyncClient, store: Store
) -> None:
    orgs = await two_organizations(client, store)
    switched = (await switch(client, orgs.token, orgs.other)).json()["access_token"]

    edit = await client.patch(
        f"/api/v1/organizations/{orgs.other}", json={"description": "x"}, headers=bearer(switched)
    )
    back = await switch(client, switched, orgs.home)

    assert edit.status_code == 403  # a member there, not an admin
    assert (back.json()["org_id"], back.json()["role"]) == (orgs.home, "owner")


async def test_me_lists_every_membership(client: AsyncClient, store: Store) -> None:
    orgs = await two_organizations(client, store)

    body = await me(client, orgs.token)

    assert (body["account_id"], body["email"]) == (orgs.account_id, EMAIL)
    assert (body["organization_id"], body["role"]) == (orgs.home, "owner")
    memberships = [
        (m["organization_id"], m["organization_name"], m["role"]) for m in body["memberships"]
    ]
    assert memberships == [(orgs.home, NAME, "owner"), (orgs.other, OTHER_NAME, "member")]
    switched = (await switch(client, orgs.token, orgs.other)).json()["access_token"]
    assert (await me(client, switched))["organization_id"] == orgs.other


async def test_switching_needs_a_membership(client: AsyncClient, store: Store) -> None:
    orgs = await two_organizations(client, store)
    stranger = (await created_org(client, "Stranger Corp", "stranger@techcorp.com"))["id"]

    answers = [
        await switch(client, orgs.token, stranger),
        await switch(client, orgs.token, str(ObjectId())),
    ]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert (await switch(client, orgs.token, "not-an-id")).status_code == 400
    assert (
        await client.post("/api/v1/auth/switch", json={"organization_id": orgs.other})
    ).status_code == 401


async def test_switching_to_an_unknown_workspace_is_a_documented_404(
    client: AsyncClient, store: Store, app: FastAPI
) -> None:
    orgs = await two_organizations(client, store)
    other_owner = await login(client, email=OTHER_EMAIL)
    elsewhere = await client.post(
        f"/api/v1/organizations/{orgs.other}/workspaces",
        json={"name": "Theirs"},
        headers=bearer(other_owner),
    )
    assert elsewhere.status_code == 201, elsewhere.text

    def to(organization_id: str, workspace_id: str) -> dict[str, str]:
        return {"organization_id": organization_id, "workspace_id": workspace_id}

    path, auth = "/api/v1/auth/switch", bearer(orgs.token)
    answers = [
        await client.post(path, json=to(orgs.home, str(ObjectId())), headers=auth),
        # Another organization's workspace is no workspace of this one.
        await client.post(path, json=to(orgs.home, elsewhere.json()["id"]), headers=auth),
        # One of an organization the caller is a member of, but not of the workspace.
        await client.post(path, json=to(orgs.other, elsewhere.json()["id"]), headers=auth),
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [
        (404, "workspace_not_found"),
        (404, "workspace_not_found"),
        (403, "not_workspace_member"),
    ]
    documented = app.openapi()["paths"][path]["post"]["responses"]["404"]
    assert documented["description"] == "- `workspace_not_found`: Workspace not found"


async def test_only_an_organization_of_yours_hints_at_switching(
    client: AsyncClient, store: Store
) -> None:
    orgs = await two_organizations(client, store)
    stranger = (await created_org(client, "Stranger Corp", "stranger@techcorp.com"))["id"]

    def details(organization_id: str) -> Awaitable[Response]:
        path = f"/api/v1/organizations/{organization_id}"
        return client.get(path, headers=bearer(orgs.token))

    member_there = await details(orgs.other)
    not_there = await details(stranger)
    nowhere = await details(str(ObjectId()))

    assert member_there.status_code == 403
    assert member_there.json()["code"] == "token_for_other_organization"
    assert "switch" in member_there.json()["detail"]
    assert not_there.status_code == nowhere.status_code == 403
    assert not_there.json() == nowhere.json()
    assert not_there.json()["code"] == "not_a_member"
    assert "switch" not in not_there.json()["detail"]


async def test_login_can_choose_the_organization(client: AsyncClient, store: Store) -> None:
    orgs = await two_organizations(client, store)
    stranger = (await created_org(client, "Stranger Corp", "stranger@techcorp.com"))["id"]

    chosen = await v1_login(client, orgs.other)
    default = await v1_login(client)
    not_mine = await v1_login(client, stranger)
    wrong_password = await v1_login(client, orgs.other, "Wrong-Password-1")

    assert chosen.status_code == 200, chosen.text
    assert (chosen.json()["org_id"], chosen.json()["role"]) == (orgs.other, "member")
    assert await status_of(client, chosen.json()["access_token"], orgs.other) == 200
    assert (default.json()["org_id"], default.json()["role"]) == (orgs.home, "owner")
    assert not_mine.status_code == 403
    assert wrong_password.status_code == 401


async def test_a_password_change_ends_every_older_token_in_every_organization(
    client: AsyncClient, store: Store
) -> None:
    orgs = await two_organizations(client, store)
    switched = (await switch(client, orgs.token, orgs.other)).json()["access_token"]
    spare = await login(client)

    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(orgs.token),
    )

    assert response.status_code == 200, response.text
    assert await status_of(client, orgs.token, orgs.home) == 401
    assert await status_of(client, spare, orgs.home) == 401
    assert await status_of(client, switched, orgs.other) == 401
    assert (await v1_login(client)).status_code == 401
    fresh = await v1_login(client, orgs.other, NEW_PASSWORD)
    assert fresh.status_code == 200, fresh.text
    assert await status_of(client, fresh.json()["access_token"], orgs.other) == 200


async def test_a_wrong_current_password_changes_nothing(client: AsyncClient, store: Store) -> None:
    orgs = await two_organizations(client, store)

    response = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "Wrong-Password-1", "new_password": NEW_PASSWORD},
        headers=bearer(orgs.token),
    )

    assert response.status_code == 401
    assert response.json() == {
        "detail": "The current password is wrong",
        "code": "wrong_current_password",
    }
    assert await status_of(client, orgs.token, orgs.home) == 200
    assert (await v1_login(client)).status_code == 200
    assert (await v1_login(client, password=NEW_PASSWORD)).status_code == 401


async def test_signing_up_again_with_the_same_credentials_adds_an_owned_organization(
    client: AsyncClient, store: Store
) -> None:
    first = await created_org(client)

    second = await created_org(client, "Second Corp")

    assert second["admin_email"] == EMAIL
    assert await store.master[ACCOUNTS].count_documents({"email_key": EMAIL}) == 1
    body = await me(client, await login(client))
    assert [(m["organization_id"], m["role"]) for m in body["memberships"]] == [
        (first["id"], "owner"),
        (second["id"], "owner"),
    ]
    chosen = await v1_login(client, second["id"])
    assert (chosen.json()["org_id"], chosen.json()["role"]) == (second["id"], "owner")


async def test_signing_up_with_a_known_email_and_the_wrong_password_is_409(
    client: AsyncClient, store: Store
) -> None:
    await created_org(client)

    response = await create_org(client, "Second Corp", EMAIL, "Wrong-Password-1")

    assert response.status_code == 409
    lookup = await client.get("/org/get", params={"organization_name": "Second Corp"})
    assert lookup.status_code == 404
    assert await tenants(store).list_collection_names() == ["tenant_tech_innovations_corp"]
    assert len((await me(client, await login(client)))["memberships"]) == 1
