"""Deleting through the versioned API: into the trash for the retention period, restored by
an owner, purged for good by `purge=true` or by the sweep once the period ends."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from httpx import ASGITransport, AsyncClient, Response

from app.access.roles import Role
from app.accounts.memberships import MembershipRepository
from app.audit.trail import AuditTrail
from app.config import Settings
from app.db.schema import AUDIT_LOG, ORGANIZATIONS
from app.db.store import Store
from app.factory import create_app
from app.operations.outbox import build_outbox
from app.organizations.lifecycle import Lifecycle
from app.organizations.retention import PurgeSweep
from app.registry.repository import OrganizationRepository
from tests.conftest import borrowed
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    add_account,
    bearer,
    create_org,
    tenants,
)

ORGANIZATIONS_PATH = "/api/v1/organizations"
COLLECTION = "tenant_tech_innovations_corp"
DOCUMENTS = 30


async def owned(client: AsyncClient, name: str = NAME, email: str = EMAIL) -> tuple[str, str]:
    created = await create_org(client, name, email)
    assert created.status_code == 201, created.text
    org_id: str = created.json()["id"]
    return org_id, await token_for(client, org_id, email)


async def token_for(client: AsyncClient, org_id: str, email: str = EMAIL) -> str:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": PASSWORD, "organization_id": org_id},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def seed(store: Store) -> list[ObjectId]:
    """Documents and an index of the operator's own in the tenant collection."""
    collection = tenants(store)[COLLECTION]
    result = await collection.insert_many([{"n": i} for i in range(DOCUMENTS)])
    await collection.create_index("n", name="by_n")
    return list(result.inserted_ids)


async def soft_delete(client: AsyncClient, org_id: str, token: str) -> Response:
    return await client.delete(f"{ORGANIZATIONS_PATH}/{org_id}", headers=bearer(token))


async def purge(client: AsyncClient, org_id: str, token: str, password: str = PASSWORD) -> Response:
    return await client.request(
        "DELETE",
        f"{ORGANIZATIONS_PATH}/{org_id}",
        params={"purge": "true"},
        json={"email": EMAIL, "password": password},
        headers=bearer(token),
    )


async def restore(
    client: AsyncClient, org_id: str, email: str = EMAIL, password: str = PASSWORD
) -> Response:
    return await client.post(
        f"{ORGANIZATIONS_PATH}/{org_id}/restore", json={"email": email, "password": password}
    )


def sweep(store: Store, settings: Settings, at: datetime) -> PurgeSweep:
    """A purge sweep whose clock reads `at`."""
    return PurgeSweep(
        Lifecycle.configured(store, settings),
        OrganizationRepository(store),
        AuditTrail(store),
        build_outbox(settings, store),
        clock=lambda: at,
    )


async def actions(store: Store, org_id: str) -> list[str]:
    entries = store.master[AUDIT_LOG].find({"organization_id": ObjectId(org_id)}).sort("_id", 1)
    return [entry["action"] async for entry in entries]


async def test_a_deleted_organization_is_hidden_and_its_tokens_refused(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    await seed(store)

    response = await soft_delete(client, org_id, token)

    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["state"] == "deleted"
    trash = f"trash_tech_innovations_corp_{org_id}"
    assert body["trash_collection"] == trash
    deleted_at = datetime.fromisoformat(body["deleted_at"])
    purge_after = datetime.fromisoformat(body["purge_after"])
    assert purge_after - deleted_at == timedelta(days=7)
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 404
    assert (
        await client.get(f"{ORGANIZATIONS_PATH}/{org_id}", headers=bearer(token))
    ).status_code == 401
    assert (await client.get(ORGANIZATIONS_PATH, headers=bearer(token))).status_code == 401
    login = await client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 401
    chosen = await client.post(
        "/api/v1/auth/login",
        json={"email": EMAIL, "password": PASSWORD, "organization_id": org_id},
    )
    assert chosen.status_code == 403
    names = await tenants(store).list_collection_names()
    assert COLLECTION not in names
    assert trash in names
    assert await actions(store, org_id) == [
        "organization.create",
        "login.success",
        "organization.delete",
    ]


async def test_a_deleted_organization_keeps_its_name(client: AsyncClient) -> None:
    org_id, token = await owned(client)
    other_id, other_token = await owned(client, "Other Corp", "other@techcorp.com")
    await soft_delete(client, org_id, token)

    again = await create_org(client, "tech innovations CORP", "new@techcorp.com")
    renamed = await client.post(
        f"{ORGANIZATIONS_PATH}/{other_id}/rename",
        json={"organization_name": NAME},
        headers=bearer(other_token),
    )

    assert again.status_code == 409
    assert renamed.status_code == 409


async def test_a_restore_brings_back_every_document_index_member_and_workspace(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    member = await add_account(store, org_id, "member@techcorp.com", Role.MEMBER)
    ids = await seed(store)
    indexes = await tenants(store)[COLLECTION].index_information()
    workspaces = (
        await client.get(f"{ORGANIZATIONS_PATH}/{org_id}/workspaces", headers=bearer(token))
    ).json()
    await soft_delete(client, org_id, token)

    response = await restore(client, org_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["state"], body["tenant_collection"]) == (org_id, "active", COLLECTION)
    collection = tenants(store)[COLLECTION]
    assert sorted(d["_id"] for d in await collection.find({}).to_list()) == sorted(ids)
    assert await collection.index_information() == indexes
    assert not [n for n in await tenants(store).list_collection_names() if n.startswith("trash_")]
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 200
    # Tokens from before the delete work again (unless they expired meanwhile).
    assert (
        await client.get(f"{ORGANIZATIONS_PATH}/{org_id}", headers=bearer(token))
    ).status_code == 200
    fresh = await token_for(client, org_id)
    members = await client.get(f"{ORGANIZATIONS_PATH}/{org_id}/members", headers=bearer(fresh))
    assert str(member) in {m["account_id"] for m in members.json()["items"]}
    assert (
        await client.get(f"{ORGANIZATIONS_PATH}/{org_id}/workspaces", headers=bearer(fresh))
    ).json() == workspaces
    documents = await client.get(
        f"{ORGANIZATIONS_PATH}/{org_id}/documents", params={"limit": 100}, headers=bearer(fresh)
    )
    assert len(documents.json()["items"]) == DOCUMENTS
    assert (await actions(store, org_id))[-2] == "organization.restore"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER, Role.VIEWER])
async def test_only_owners_delete_and_restore(
    client: AsyncClient, store: Store, role: Role
) -> None:
    org_id, token = await owned(client)
    email = f"{role.value}-member@techcorp.com"
    await add_account(store, org_id, email, role)
    theirs = await token_for(client, org_id, email)

    refused_delete = await soft_delete(client, org_id, theirs)
    await soft_delete(client, org_id, token)
    refused_restore = await restore(client, org_id, email)

    assert (refused_delete.status_code, refused_delete.json()["code"]) == (403, "role_not_allowed")
    assert (refused_restore.status_code, refused_restore.json()["code"]) == (
        403,
        "role_not_allowed",
    )
    assert (await restore(client, org_id)).status_code == 200


async def test_a_second_owner_restores_too(client: AsyncClient, store: Store) -> None:
    org_id, token = await owned(client)
    await add_account(store, org_id, "co-owner@techcorp.com", Role.OWNER)
    await soft_delete(client, org_id, token)

    assert (await restore(client, org_id, "co-owner@techcorp.com")).status_code == 200


async def test_a_restore_needs_the_right_password_and_a_deleted_organization(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)

    not_deleted = await restore(client, org_id)
    await soft_delete(client, org_id, token)
    wrong = await restore(client, org_id, password="WrongPassword1")
    unknown = await restore(client, org_id, email="nobody@techcorp.com")
    elsewhere = await restore(client, str(ObjectId()))
    malformed = await restore(client, "not-an-id")
    missing = await client.post(f"{ORGANIZATIONS_PATH}/{org_id}/restore", json={"email": EMAIL})

    assert (not_deleted.status_code, not_deleted.json()["code"]) == (
        409,
        "organization_not_deleted",
    )
    assert [wrong.status_code, unknown.status_code] == [401, 401]
    assert [elsewhere.status_code, malformed.status_code] == [404, 404]
    assert missing.status_code == 400
    assert (await restore(client, org_id)).status_code == 200


async def test_purge_true_deletes_for_good_at_once(client: AsyncClient, store: Store) -> None:
    org_id, token = await owned(client)
    await add_account(store, org_id, "only-here@techcorp.com", Role.MEMBER)
    # The owner owns another organization, so the account outlives the purge.
    other_id = (await create_org(client, "Other Corp")).json()["id"]
    await seed(store)

    unconfirmed = await client.delete(
        f"{ORGANIZATIONS_PATH}/{org_id}", params={"purge": "true"}, headers=bearer(token)
    )
    wrong = await purge(client, org_id, token, password="WrongPassword1")
    response = await purge(client, org_id, token)

    assert unconfirmed.status_code == 400
    assert wrong.status_code == 401
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["purge_after"]) == ("purged", None)
    assert await store.master[ORGANIZATIONS].distinct("_id") == [ObjectId(other_id)]
    assert await tenants(store).list_collection_names() == ["tenant_other_corp"]
    only_here = await client.post(
        "/admin/login", json={"email": "only-here@techcorp.com", "password": PASSWORD}
    )
    assert only_here.status_code == 401
    gone = await restore(client, org_id)
    assert (gone.status_code, gone.json()["code"]) == (404, "deleted_organization_not_found")
    assert (await create_org(client)).status_code == 201


async def test_the_sweep_purges_once_the_period_ends(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    org_id, token = await owned(client)
    kept_id, kept_token = await owned(client, "Kept Corp")
    await seed(store)
    deleted = (await soft_delete(client, org_id, token)).json()
    purge_after = datetime.fromisoformat(deleted["purge_after"])

    early = await sweep(store, settings, purge_after - timedelta(seconds=1)).run()
    assert early == []
    assert (await store.master[ORGANIZATIONS].count_documents({"_id": ObjectId(org_id)})) == 1

    late = await sweep(store, settings, purge_after + timedelta(seconds=1)).run()

    assert late == [ObjectId(org_id)]
    assert await store.master[ORGANIZATIONS].count_documents({"_id": ObjectId(org_id)}) == 0
    names = await tenants(store).list_collection_names()
    assert names == ["tenant_kept_corp"]
    gone = await restore(client, org_id)
    assert (gone.status_code, gone.json()["code"]) == (404, "deleted_organization_not_found")
    assert (await actions(store, org_id))[-1] == "organization.purge"
    assert (await create_org(client)).status_code == 201
    kept = await client.get(f"{ORGANIZATIONS_PATH}/{kept_id}", headers=bearer(kept_token))
    assert kept.status_code == 200


async def test_two_sweeps_never_purge_the_same_organization_twice(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    deleted = []
    for n in range(3):
        org_id, token = await owned(client, f"Doomed {n}", f"doomed{n}@techcorp.com")
        await soft_delete(client, org_id, token)
        deleted.append(ObjectId(org_id))
    later = datetime.now(UTC) + timedelta(days=8)

    first, second = await asyncio.gather(
        sweep(store, settings, later).run(), sweep(store, settings, later).run()
    )

    assert sorted(first + second) == sorted(deleted)
    assert not set(first) & set(second)
    purges = await store.master[AUDIT_LOG].count_documents({"action": "organization.purge"})
    assert purges == 3


async def test_a_restore_wins_over_a_sweep_that_read_it_as_due(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    org_id, token = await owned(client)
    await soft_delete(client, org_id, token)
    later = datetime.now(UTC) + timedelta(days=8)
    registry = OrganizationRepository(store)
    [due] = await registry.due_purges(later, 10)

    assert (await restore(client, org_id)).status_code == 200
    assert not await Lifecycle.configured(store, settings).purge(due, due_by=later)
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 200


async def test_a_zero_retention_purges_at_once(settings: Settings, store: Store) -> None:
    immediate = settings.model_copy(update={"deleted_retention_days": 0})
    app = create_app(immediate, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        org_id, token = await owned(client)
        response = await soft_delete(client, org_id, token)

        assert response.json()["state"] == "purged"
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert await tenants(store).list_collection_names() == []


async def test_members_stay_members_while_deleted(client: AsyncClient, store: Store) -> None:
    org_id, token = await owned(client)
    member = await add_account(store, org_id, "member@techcorp.com", Role.MEMBER)

    await soft_delete(client, org_id, token)

    assert await MembershipRepository(store).get(member, ObjectId(org_id)) is not None
