"""What a write key changes, through the features and the lifecycle, each change audited with
the key as actor; and what a read key sees of organizations and accounts."""

from typing import Any

from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.db.schema import AUDIT_LOG
from app.db.store import Store
from tests.support import (
    EMAIL,
    PASSWORD,
    add_account,
    bearer,
    created_org,
    login,
    tenant_namespaces,
)

ADMIN = "/api/v1/admin"
ORGS = f"{ADMIN}/organizations"


def key_prefix(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")[:28]


async def audited(store: Store, organization_id: str, action: str) -> dict[str, Any]:
    entry = await store.master[AUDIT_LOG].find_one(
        {"organization_id": ObjectId(organization_id), "action": action}
    )
    assert entry is not None, action
    return entry


async def test_read_shows_statistics_and_owners(
    client: AsyncClient, store: Store, reader: dict[str, str]
) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "second@techcorp.com", Role.OWNER)
    await add_account(store, created["id"], "dev@techcorp.com", Role.MEMBER)
    response = await client.get(f"{ORGS}/{created['id']}", headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["organization_name"] == created["organization_name"]
    assert body["tenant_collection"] == created["tenant_collection"]
    assert body["statistics"]["members"] == 3
    assert body["plan"] == "free"
    assert [owner["email"] for owner in body["owners"]] == [EMAIL, "second@techcorp.com"]
    missing = await client.get(f"{ORGS}/{ObjectId()}", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["code"] == "organization_not_found"
    assert (await client.get(f"{ORGS}/nonsense", headers=reader)).status_code == 404


async def test_accounts_by_email_and_id_with_their_organizations(
    client: AsyncClient, store: Store, reader: dict[str, str]
) -> None:
    first = await created_org(client)
    second = await created_org(client, "Second Corp", "other@example.com")
    await add_account(store, second["id"], "dev@example.com", Role.VIEWER)
    found = await client.get(f"{ADMIN}/accounts/lookup", params={"email": "DEV@example.com"})
    assert found.status_code == 401
    found = await client.get(
        f"{ADMIN}/accounts/lookup", params={"email": "ADMIN@techcorp.com"}, headers=reader
    )
    assert found.status_code == 200, found.text
    account = found.json()
    assert account["email"] == EMAIL
    assert account["home_organization_id"] == first["id"]
    by_id = await client.get(f"{ADMIN}/accounts/{account['id']}", headers=reader)
    assert by_id.json() == account
    listed = await client.get(f"{ADMIN}/accounts/{account['id']}/organizations", headers=reader)
    assert [(o["id"], o["role"]) for o in listed.json()["items"]] == [(first["id"], "owner")]
    nobody = await client.get(
        f"{ADMIN}/accounts/lookup", params={"email": "nobody@example.com"}, headers=reader
    )
    assert nobody.status_code == 404
    assert nobody.json()["code"] == "no_such_account"
    unknown = await client.get(f"{ADMIN}/accounts/{ObjectId()}/organizations", headers=reader)
    assert unknown.status_code == 404


async def test_create_for_an_existing_account_without_its_password(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    token = bearer(await login(client))
    me = (await client.get("/api/v1/auth/me", headers=token)).json()
    response = await client.post(
        ORGS,
        json={"organization_name": "Made By Ops", "owner_account_id": me["account_id"]},
        headers=writer,
    )
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["admin_email"] == EMAIL
    assert made["tenant_collection"] == "tenant_made_by_ops"
    assert response.headers["location"] == f"{ORGS}/{made['id']}"
    assert f"tenantry_tenants.{made['tenant_collection']}" in await tenant_namespaces(store)
    mine = (await client.get("/api/v1/organizations", headers=token)).json()["items"]
    assert {o["id"] for o in mine} == {created["id"], made["id"]}
    entry = await audited(store, made["id"], "organization.create")
    assert entry["actor_key"] == key_prefix(writer)
    assert entry["actor_email"] == "write key"
    taken = await client.post(
        ORGS, json={"organization_name": "made by OPS", "owner_email": EMAIL}, headers=writer
    )
    assert taken.status_code == 409
    assert taken.json()["code"] == "organization_name_taken"


async def test_create_for_a_new_account_that_can_log_in(
    client: AsyncClient, writer: dict[str, str]
) -> None:
    body = {"organization_name": "Fresh Corp", "owner_email": "fresh@example.com"}
    refused = await client.post(ORGS, json=body, headers=writer)
    assert refused.status_code == 400
    response = await client.post(ORGS, json={**body, "owner_password": PASSWORD}, headers=writer)
    assert response.status_code == 201, response.text
    assert response.json()["admin_email"] == "fresh@example.com"
    logged_in = await client.post(
        "/admin/login", json={"email": "fresh@example.com", "password": PASSWORD}
    )
    assert logged_in.json()["org_id"] == response.json()["id"]
    both = await client.post(
        ORGS,
        json={**body, "organization_name": "X", "owner_account_id": str(ObjectId())},
        headers=writer,
    )
    assert both.status_code == 400


async def test_add_a_member_directly_within_the_plan(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    other = await created_org(client, "Other Corp", "dev@example.com")
    assert other
    members = f"{ORGS}/{created['id']}/members"
    response = await client.post(
        members, json={"email": "dev@example.com", "role": "member"}, headers=writer
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "member"
    assert response.headers["location"].endswith(response.json()["account_id"])
    joined = await client.post(
        "/api/v1/auth/login",
        json={"email": "dev@example.com", "password": PASSWORD, "organization_id": created["id"]},
    )
    assert joined.status_code == 200, joined.text
    token = bearer(joined.json()["access_token"])
    document = await client.post(
        f"/api/v1/organizations/{created['id']}/documents", json={"n": 1}, headers=token
    )
    assert document.status_code == 201, document.text
    entry = await audited(store, created["id"], "member.add")
    assert entry["actor_key"] == key_prefix(writer)
    assert entry["details"]["role"] == "member"

    again = await client.post(members, json={"email": "dev@example.com"}, headers=writer)
    assert again.status_code == 409
    assert again.json()["code"] == "already_member_of_organization"
    nobody = await client.post(members, json={"email": "nobody@example.com"}, headers=writer)
    assert nobody.status_code == 404
    for number in range(3):
        await add_account(store, created["id"], f"m{number}@example.com", Role.VIEWER)
    await created_org(client, "Third Corp", "late@example.com")
    full = await client.post(members, json={"email": "late@example.com"}, headers=writer)
    assert full.status_code == 409
    assert full.json()["code"] == "member_limit_reached"


async def test_an_owner_added_directly_counts_as_owner(
    client: AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    created = await created_org(client)
    await created_org(client, "Other Corp", "boss@example.com")
    added = await client.post(
        f"{ORGS}/{created['id']}/members",
        json={"email": "boss@example.com", "role": "owner"},
        headers=writer,
    )
    assert added.status_code == 201, added.text
    read = (await client.get(f"{ORGS}/{created['id']}", headers=reader)).json()
    assert len(read["owners"]) == 2
    token = bearer(await login(client))
    me = (await client.get("/api/v1/auth/me", headers=token)).json()
    # With two owners, the first may step down.
    demoted = await client.patch(
        f"/api/v1/organizations/{created['id']}/members/{me['account_id']}",
        json={"role": "admin"},
        headers=token,
    )
    assert demoted.status_code == 200, demoted.text


async def test_change_plan_within_the_seats(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    plan = f"{ORGS}/{created['id']}/plan"
    response = await client.put(plan, json={"plan": "pro"}, headers=writer)
    assert response.status_code == 200, response.text
    assert response.json()["plan"] == "pro"
    entry = await audited(store, created["id"], "billing.update")
    assert entry["actor_key"] == key_prefix(writer)
    for number in range(5):
        await add_account(store, created["id"], f"m{number}@example.com", Role.MEMBER)
    too_small = await client.put(plan, json={"plan": "free"}, headers=writer)
    assert too_small.status_code == 409
    assert too_small.json()["code"] == "plan_too_small"
    assert (await client.put(plan, json={"plan": "gold"}, headers=writer)).status_code == 400


async def test_suspend_and_reactivate(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    token = bearer(await login(client))
    suspended = await client.post(f"{ORGS}/{created['id']}/suspend", headers=writer)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "suspended"
    refused = await client.patch(
        f"/api/v1/organizations/{created['id']}", json={"description": "x"}, headers=token
    )
    assert refused.status_code == 423
    member = await client.post(
        f"{ORGS}/{created['id']}/members", json={"email": EMAIL}, headers=writer
    )
    assert member.status_code == 423
    reactivated = await client.post(f"{ORGS}/{created['id']}/reactivate", headers=writer)
    assert reactivated.json()["status"] == "active"
    for action in ("organization.suspend", "organization.reactivate"):
        entry = await audited(store, created["id"], action)
        assert entry["actor_key"] == key_prefix(writer)


async def test_delete_through_the_lifecycle_into_the_trash(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    token = bearer(await login(client))
    response = await client.delete(f"{ORGS}/{created['id']}", headers=writer)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "deleted"
    assert response.json()["trash_collection"] in {
        name.split(".", 1)[1] for name in await tenant_namespaces(store)
    }
    assert not any(
        name.endswith(created["tenant_collection"]) for name in await tenant_namespaces(store)
    )
    assert (await client.get("/api/v1/auth/me", headers=token)).status_code == 401
    lookup = await client.get(
        "/org/get", params={"organization_name": created["organization_name"]}
    )
    assert lookup.status_code == 404
    entry = await audited(store, created["id"], "organization.delete")
    assert entry["actor_key"] == key_prefix(writer)
    again = await client.delete(f"{ORGS}/{created['id']}", headers=writer)
    assert again.status_code == 404
