"""Every change a platform key makes records its event with the key as actor (`operator`,
named by its prefix); deleting through the platform API is a soft delete that the API
restores, or a purge."""

from typing import Any

from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.events.repository import EventRepository
from tests.admin.test_management import ORGS, audited, key_prefix
from tests.support import (
    EMAIL,
    PASSWORD,
    add_account,
    bearer,
    created_org,
    login,
    tenant_namespaces,
)

DOCUMENTS = 5


async def stored(store: Store, org_id: str) -> list[dict[str, Any]]:
    events = await EventRepository(store).latest(ObjectId(org_id), 100)
    return [event.public() for event in events]


def operator(headers: dict[str, str]) -> dict[str, Any]:
    return {"kind": "operator", "id": key_prefix(headers), "email": None}


async def with_documents(client: AsyncClient, org_id: str) -> list[str]:
    token = bearer(await login(client))
    made = await client.post(
        f"/api/v1/organizations/{org_id}/documents/batch",
        json={"documents": [{"n": n} for n in range(DOCUMENTS)]},
        headers=token,
    )
    assert made.status_code == 201, made.text
    return sorted(document["id"] for document in made.json())


async def document_ids(client: AsyncClient, org_id: str) -> list[str]:
    token = bearer(await login(client))
    listed = await client.get(f"/api/v1/organizations/{org_id}/documents", headers=token)
    assert listed.status_code == 200, listed.text
    return sorted(document["id"] for document in listed.json()["items"])


async def test_every_change_is_an_event_by_the_operator_key(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    made = await client.post(
        ORGS,
        json={"organization_name": "Ops Corp", "owner_email": EMAIL, "owner_password": PASSWORD},
        headers=writer,
    )
    assert made.status_code == 201, made.text
    org_id = made.json()["id"]
    member = await created_org(client, "Elsewhere Corp", "dev@example.com")
    steps = [
        ("POST", f"{ORGS}/{org_id}/members", {"email": "dev@example.com", "role": "member"}),
        ("PUT", f"{ORGS}/{org_id}/plan", {"plan": "pro"}),
        ("POST", f"{ORGS}/{org_id}/suspend", None),
        ("POST", f"{ORGS}/{org_id}/reactivate", None),
        ("DELETE", f"{ORGS}/{org_id}", None),
        ("POST", f"{ORGS}/{org_id}/restore", None),
        ("DELETE", f"{ORGS}/{org_id}?purge=true", None),
    ]
    for method, path, body in steps:
        response = await client.request(method, path, json=body, headers=writer)
        assert response.status_code < 300, (path, response.text)

    events = await stored(store, org_id)

    assert member["id"] != org_id
    assert [e["type"] for e in events[:-2]] == [
        "organization.created",
        "member.added",
        "organization.plan_changed",
        "organization.suspended",
        "organization.reactivated",
        "organization.deleted",
        "organization.restored",
    ]
    assert sorted(e["type"] for e in events[-2:]) == ["organization.deleted", "organization.purged"]
    assert all(event["actor"] == operator(writer) for event in events)
    assert events[0]["data"]["admin_email"] == EMAIL
    assert events[1]["data"]["email"] == "dev@example.com"
    assert events[1]["data"]["role"] == "member"
    assert events[5]["data"]["restorable_until"] is not None


async def test_a_create_is_placed_claimed_and_owned_as_a_sign_up_is(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    made = await client.post(
        ORGS,
        json={"organization_name": "Ops Corp", "owner_email": EMAIL, "owner_password": PASSWORD},
        headers=writer,
    )
    assert made.status_code == 201, made.text
    org_id = made.json()["id"]
    entry = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert entry is not None
    assert (entry["state"], entry["tenant_database"]) == ("active", "tenantry_tenants")
    # The owner is admin of the default workspace, as after a sign-up: its documents are theirs.
    assert await with_documents(client, org_id) == await document_ids(client, org_id)
    taken = await client.post(
        "/org/create",
        json={"organization_name": "OPS corp", "email": "x@example.com", "password": PASSWORD},
    )
    assert taken.status_code == 409


async def test_a_delete_is_restored_with_every_document(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    created = await created_org(client)
    await add_account(store, created["id"], "dev@techcorp.com", Role.MEMBER)
    before = await with_documents(client, created["id"])

    deleted = await client.delete(f"{ORGS}/{created['id']}", headers=writer)
    assert deleted.status_code == 200, deleted.text
    assert (deleted.json()["state"], deleted.json()["purge_after"] is not None) == (
        "deleted",
        True,
    )
    hidden = await client.get(
        "/org/get", params={"organization_name": created["organization_name"]}
    )
    assert hidden.status_code == 404
    again = await client.delete(f"{ORGS}/{created['id']}", headers=writer)
    assert again.status_code == 404

    restored = await client.post(f"{ORGS}/{created['id']}/restore", headers=writer)

    assert restored.status_code == 200, restored.text
    assert (restored.json()["state"], restored.json()["statistics"]["members"]) == ("active", 2)
    assert await document_ids(client, created["id"]) == before
    entry = await audited(store, created["id"], "organization.restore")
    assert entry["actor_key"] == key_prefix(writer)
    twice = await client.post(f"{ORGS}/{created['id']}/restore", headers=writer)
    assert (twice.status_code, twice.json()["code"]) == (409, "organization_not_deleted")
    missing = await client.post(f"{ORGS}/{ObjectId()}/restore", headers=writer)
    assert missing.status_code == 404


async def test_a_purge_removes_the_collection_at_once_or_from_the_trash(
    client: AsyncClient, store: Store, writer: dict[str, str]
) -> None:
    at_once = await created_org(client)
    trashed = await created_org(client, "Trashed Corp", "owner@trashed.example")
    await with_documents(client, at_once["id"])
    assert (await client.delete(f"{ORGS}/{trashed['id']}", headers=writer)).status_code == 200

    purged = await client.delete(
        f"{ORGS}/{at_once['id']}", params={"purge": "true"}, headers=writer
    )
    emptied = await client.delete(
        f"{ORGS}/{trashed['id']}", params={"purge": "true"}, headers=writer
    )

    assert purged.status_code == 200, purged.text
    assert (purged.json()["state"], purged.json()["purge_after"]) == ("purged", None)
    assert emptied.status_code == 200, emptied.text
    assert await tenant_namespaces(store) == []
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0
    gone = await client.post(f"{ORGS}/{trashed['id']}/restore", headers=writer)
    assert gone.status_code == 404
    [purge] = [e for e in await stored(store, trashed["id"]) if e["type"] == "organization.purged"]
    assert purge["actor"] == operator(writer)
    assert purge["data"]["deleted_at"] is not None
    entry = await audited(store, trashed["id"], "organization.purge")
    assert entry["actor_key"] == key_prefix(writer)
