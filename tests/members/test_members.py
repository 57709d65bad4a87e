"""`/api/v1/organizations/{org_id}/members`: listing, role changes, removal, leaving, handing
over ownership, and what each does to the tokens already issued."""

from typing import Any

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.access.roles import Role
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    add_account,
    bearer,
    created_org,
    field_errors,
    login,
)

ORGANIZATIONS_PATH = "/api/v1/organizations"


async def organization_with(
    client: AsyncClient, store: Store, roles: list[Role]
) -> tuple[str, str, list[tuple[str, str]]]:
    """An organization whose owner is the creator, plus one member per entry of `roles`
    (added in that order). Returns the organization id, the owner's token, and each added
    member's (account id, email)."""
    org_id = (await created_org(client))["id"]
    added = []
    for number, role in enumerate(roles):
        email = f"{role.value}-{number}@techcorp.com"
        added.append((str(await add_account(store, org_id, email, role)), email))
    return org_id, await login(client), added


def members_path(org_id: str, suffix: str = "") -> str:
    return f"{ORGANIZATIONS_PATH}/{org_id}/members{suffix}"


async def listing(
    client: AsyncClient, token: str, org_id: str, **params: str | int
) -> dict[str, Any]:
    response = await client.get(members_path(org_id), params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def roles(client: AsyncClient, org_id: str) -> dict[str, str]:
    """Every member's role by email, as the creator (logging in afresh) reads them."""
    page = await listing(client, await login(client), org_id, limit=100)
    return {member["email"]: member["role"] for member in page["items"]}


async def change_role(
    client: AsyncClient, token: str, org_id: str, account_id: str, role: str
) -> Response:
    return await client.patch(
        members_path(org_id, f"/{account_id}"), json={"role": role}, headers=bearer(token)
    )


async def fresh_login(client: AsyncClient, email: str = EMAIL) -> dict[str, Any]:
    """The body of a new login: token, account id, organization and role."""
    response = await client.post("/admin/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def can_read(client: AsyncClient, token: str, org_id: str) -> int:
    response = await client.get(f"{ORGANIZATIONS_PATH}/{org_id}", headers=bearer(token))
    return response.status_code


async def test_members_are_listed_a_page_at_a_time_oldest_first(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner, added = await organization_with(
        client, store, [Role.MEMBER, Role.VIEWER, Role.ADMIN, Role.MEMBER, Role.VIEWER, Role.MEMBER]
    )
    everyone = [EMAIL, *(email for _, email in added)]

    pages = [await listing(client, owner, org_id, offset=o, limit=3) for o in (0, 3, 6)]

    assert [page["total"] for page in pages] == [7, 7, 7]
    assert [(page["offset"], page["limit"]) for page in pages] == [(0, 3), (3, 3), (6, 3)]
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert [m["email"] for page in pages for m in page["items"]] == everyone
    first = pages[0]["items"][0]
    assert first["role"] == "owner"
    assert {"account_id", "email", "role", "joined_at"} <= set(first)


async def test_members_can_be_filtered_by_role(client: AsyncClient, store: Store) -> None:
    org_id, owner, added = await organization_with(
        client, store, [Role.MEMBER, Role.VIEWER, Role.MEMBER, Role.VIEWER, Role.MEMBER]
    )

    viewers = await listing(client, owner, org_id, role="viewer")
    members = await listing(client, owner, org_id, role="member", limit=2)
    admins = await listing(client, owner, org_id, role="admin")

    assert [m["email"] for m in viewers["items"]] == [added[1][1], added[3][1]]
    assert viewers["total"] == 2
    assert [m["email"] for m in members["items"]] == [added[0][1], added[2][1]]
    assert members["total"] == 3
    assert admins == {
        "items": [],
        "total": 0,
        "total_capped": False,
        "offset": 0,
        "limit": 20,
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [({"role": "superuser"}, "role"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit")],
)
async def test_a_bad_listing_query_is_a_400_naming_it(
    client: AsyncClient, store: Store, params: dict[str, str | int], field: str
) -> None:
    org_id, owner, _ = await organization_with(client, store, [])

    response = await client.get(members_path(org_id), params=params, headers=bearer(owner))

    assert field_errors(response) == [field]


async def test_an_owner_changes_a_role(client: AsyncClient, store: Store) -> None:
    org_id, owner, [(member_id, email)] = await organization_with(client, store, [Role.MEMBER])

    response = await change_role(client, owner, org_id, member_id, "viewer")

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "viewer"
    assert response.json()["email"] == email
    assert (await roles(client, org_id))[email] == "viewer"


async def test_a_role_change_retires_the_older_tokens_and_a_new_login_shows_the_new_role(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner, [(member_id, email)] = await organization_with(client, store, [Role.MEMBER])
    before = await login(client, email=email)

    assert (await change_role(client, owner, org_id, member_id, "admin")).status_code == 200

    assert await can_read(client, before, org_id) == 401
    fresh = await fresh_login(client, email)
    assert fresh["role"] == "admin"
    me = await client.get("/admin/me", headers=bearer(fresh["access_token"]))
    assert me.json()["role"] == "admin"


async def test_an_owner_removes_a_member_whose_token_stops_working_at_once(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner, [(member_id, email), _] = await organization_with(
        client, store, [Role.MEMBER, Role.VIEWER]
    )
    token = await login(client, email=email)
    assert await can_read(client, token, org_id) == 200

    response = await client.delete(members_path(org_id, f"/{member_id}"), headers=bearer(owner))

    assert response.status_code == 200, response.text
    assert await can_read(client, token, org_id) == 401
    assert email not in await roles(client, org_id)
    again = await client.delete(members_path(org_id, f"/{member_id}"), headers=bearer(owner))
    assert again.status_code == 404


async def test_a_member_leaves(client: AsyncClient, store: Store) -> None:
    org_id, _, [(_, email)] = await organization_with(client, store, [Role.VIEWER])
    token = await login(client, email=email)

    response = await client.post(members_path(org_id, "/leave"), headers=bearer(token))

    assert response.status_code == 200, response.text
    assert await can_read(client, token, org_id) == 401
    assert email not in await roles(client, org_id)


async def test_who_left_their_only_organization_is_told_so_at_login(
    client: AsyncClient, store: Store
) -> None:
    org_id, _, [(_, email)] = await organization_with(client, store, [Role.MEMBER])
    token = await login(client, email=email)
    assert (await client.post(members_path(org_id, "/leave"), headers=bearer(token))).is_success
    credentials = {"email": email, "password": PASSWORD}

    contract = await client.post("/admin/login", json=credentials)
    versioned = await client.post("/api/v1/auth/login", json=credentials)
    wrong = await client.post("/admin/login", json={**credentials, "password": "Not-It-123"})

    assert contract.status_code == versioned.status_code == 401
    assert "belongs to no organization" in contract.json()["detail"]
    assert versioned.json()["code"] == "account_without_organization"
    # Only the right password learns it.
    assert wrong.json() == {"detail": "Invalid email or password"}


async def test_removing_yourself_is_leaving(client: AsyncClient, store: Store) -> None:
    org_id, _, [(admin_id, email)] = await organization_with(client, store, [Role.ADMIN])
    token = await login(client, email=email)

    response = await client.delete(members_path(org_id, f"/{admin_id}"), headers=bearer(token))

    assert response.status_code == 200, response.text
    assert email not in await roles(client, org_id)


@pytest.mark.parametrize("account_id", [str(ObjectId()), "not-an-id"])
async def test_an_unknown_member_is_404(client: AsyncClient, store: Store, account_id: str) -> None:
    org_id, owner, _ = await organization_with(client, store, [])

    changed = await change_role(client, owner, org_id, account_id, "viewer")
    removed = await client.delete(members_path(org_id, f"/{account_id}"), headers=bearer(owner))

    assert (changed.status_code, removed.status_code) == (404, 404)


async def test_an_admin_can_neither_demote_nor_remove_an_owner(
    client: AsyncClient, store: Store
) -> None:
    org_id, _, [(_, email)] = await organization_with(client, store, [Role.ADMIN])
    admin = await login(client, email=email)
    owner_id = (await fresh_login(client))["admin_id"]

    demoted = await change_role(client, admin, org_id, owner_id, "member")
    removed = await client.delete(members_path(org_id, f"/{owner_id}"), headers=bearer(admin))

    assert (demoted.status_code, removed.status_code) == (403, 403)
    assert (await roles(client, org_id))[EMAIL] == "owner"


async def transfer(client: AsyncClient, token: str, org_id: str, account_id: str) -> Response:
    return await client.post(
        members_path(org_id, "/transfer-ownership"),
        json={"account_id": account_id},
        headers=bearer(token),
    )


async def test_ownership_is_transferred_and_the_former_owner_becomes_admin(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner, [(member_id, email)] = await organization_with(client, store, [Role.MEMBER])

    response = await transfer(client, owner, org_id, member_id)

    assert response.status_code == 200, response.text
    assert await roles(client, org_id) == {EMAIL: "admin", email: "owner"}
    looked_up = await client.get("/org/get", params={"organization_name": NAME})
    assert looked_up.json()["admin_email"] == email
    assert await can_read(client, owner, org_id) == 401  # the token said "owner"
    assert (await fresh_login(client))["role"] == "admin"
    organization = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert organization is not None
    assert organization["owner_count"] == 1


async def test_ownership_goes_to_another_member_only(client: AsyncClient, store: Store) -> None:
    org_id, owner, _ = await organization_with(client, store, [])
    owner_id = (await fresh_login(client))["admin_id"]

    to_self = await transfer(client, owner, org_id, owner_id)
    to_stranger = await transfer(client, owner, org_id, str(ObjectId()))

    assert field_errors(to_self) == ["account_id"]
    assert to_stranger.status_code == 404
    assert await roles(client, org_id) == {EMAIL: "owner"}


async def test_a_suspended_organization_refuses_role_changes_but_lets_members_leave(
    client: AsyncClient, store: Store
) -> None:
    org_id, owner, [(_, email), (viewer_id, viewer_email)] = await organization_with(
        client, store, [Role.MEMBER, Role.VIEWER]
    )
    member = await login(client, email=email)
    suspended = await client.post(f"{ORGANIZATIONS_PATH}/{org_id}/suspend", headers=bearer(owner))
    assert suspended.status_code == 200, suspended.text

    changed = await change_role(client, owner, org_id, viewer_id, "member")
    removed = await client.delete(members_path(org_id, f"/{viewer_id}"), headers=bearer(owner))
    left = await client.post(members_path(org_id, "/leave"), headers=bearer(member))

    assert (changed.status_code, removed.status_code, left.status_code) == (423, 423, 200)
    assert await roles(client, org_id) == {EMAIL: "owner", viewer_email: "viewer"}
