"""Organizations spread over a pool of tenant databases, seen through the HTTP API."""

from collections import Counter
from dataclasses import replace

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store
from app.registry.placement import rendezvous_weight
from tests.conftest import borrowed, running
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    assert_consistent,
    bearer,
    created_org,
    delete,
    login,
    rename,
    tenant_namespaces,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"tenant_db_count": 3})


async def registry_entry(store: Store, organization_id: str) -> Document:
    entry = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(organization_id)})
    assert entry is not None
    return entry


async def created_in(client: AsyncClient, store: Store, number: int) -> tuple[dict[str, str], str]:
    """Organization `number` (its own owner) and the database it was placed in."""
    created = await created_org(client, name=f"Org {number}", email=f"owner{number}@example.com")
    return created, (await registry_entry(store, created["id"]))["tenant_database"]


async def test_new_organizations_fill_the_pool_evenly(client: AsyncClient, store: Store) -> None:
    placed = [(await created_in(client, store, number))[1] for number in range(9)]

    assert Counter(placed) == dict.fromkeys(store.tenant_pool, 3)
    assert store.tenant_pool == ("tenantry_tenants_1", "tenantry_tenants_2", "tenantry_tenants_3")
    # Each collection exists in its recorded database and nowhere else.
    await assert_consistent(store)


async def test_the_hash_policy_places_by_the_organizations_id(
    settings: Settings, store: Store
) -> None:
    hashed = settings.model_copy(update={"tenant_placement": "hash"})
    async with running(hashed, store) as client:
        created = [(await created_in(client, store, number)) for number in range(6)]

    for organization, database in created:
        expected = max(
            store.tenant_pool,
            key=lambda name: rendezvous_weight(ObjectId(organization["id"]), name),
        )
        assert database == expected
    await assert_consistent(store)


async def test_a_rename_stays_inside_the_organizations_database(
    client: AsyncClient, store: Store
) -> None:
    await created_in(client, store, 1)  # so that the next one is not in the first database
    created = await created_org(client)
    database = (await registry_entry(store, created["id"]))["tenant_database"]
    collection = store.tenant_database(database)[created["tenant_collection"]]
    inserted = (await collection.insert_many([{"n": n} for n in range(7)])).inserted_ids
    await collection.create_index("n", name="by_n")

    response = await rename(client, await login(client), "Renamed Corp")

    assert response.status_code == 200, response.text
    entry = await registry_entry(store, created["id"])
    assert entry["tenant_database"] == database
    moved = store.tenant_database(database)["tenant_renamed_corp"]
    assert sorted(await moved.distinct("_id")) == sorted(inserted)
    assert "by_n" in await moved.index_information()
    assert f"{database}.tenant_renamed_corp" in await tenant_namespaces(store)
    await assert_consistent(store)


async def test_documents_and_statistics_follow_the_placement(
    client: AsyncClient, store: Store
) -> None:
    await created_in(client, store, 1)
    created = await created_org(client)
    database = (await registry_entry(store, created["id"]))["tenant_database"]
    token = await login(client)
    base = f"/api/v1/organizations/{created['id']}"

    written = await client.post(f"{base}/documents", json={"title": "x"}, headers=bearer(token))
    listed = await client.get(f"{base}/documents", headers=bearer(token))
    details = await client.get(base, headers=bearer(token))

    assert written.status_code == 201, written.text
    stored = store.tenant_database(database)[created["tenant_collection"]]
    assert await stored.count_documents({"title": "x"}) == 1
    assert [item["title"] for item in listed.json()["items"]] == ["x"]
    assert details.json()["tenant_database"] == database
    assert details.json()["statistics"]["tenant_documents"] == 1


async def test_a_delete_drops_the_collection_where_it_is(client: AsyncClient, store: Store) -> None:
    await created_in(client, store, 1)
    created = await created_org(client)
    database = (await registry_entry(store, created["id"]))["tenant_database"]

    response = await delete(client, await login(client))

    assert response.status_code == 200, response.text
    assert f"{database}.{created['tenant_collection']}" not in await tenant_namespaces(store)
    await assert_consistent(store)


async def test_organizations_from_before_the_pool_stay_where_they_are(
    settings: Settings, store: Store
) -> None:
    # A service that had one tenant database; its registry entries did not record it.
    single = settings.model_copy(update={"tenant_db_count": 0})
    async with running(single, borrowed_pool(store, ())) as client:
        created = await created_org(client)
    await store.master[ORGANIZATIONS].update_many({}, {"$unset": {"tenant_database": ""}})
    legacy = store.tenant_database(store.default_tenant_db)[created["tenant_collection"]]
    await legacy.insert_many([{"n": n} for n in range(3)])

    async with running(settings, store) as client:
        entry = await registry_entry(store, created["id"])
        found = await client.get("/org/get", params={"organization_name": NAME})
        token = await login(client)
        listed = await client.get(
            f"/api/v1/organizations/{created['id']}/documents", headers=bearer(token)
        )
        newcomer = await created_org(client, name="Newcomer", email="new@example.com")
        renamed = await rename(client, token, "Old Timer", EMAIL, PASSWORD)

    assert entry["tenant_database"] == store.default_tenant_db  # written at start-up
    assert found.status_code == 200
    assert listed.json()["total"] == 3
    placed = (await registry_entry(store, newcomer["id"]))["tenant_database"]
    assert placed in store.tenant_pool
    assert renamed.status_code == 200, renamed.text
    old_timer = store.tenant_database(store.default_tenant_db)["tenant_old_timer"]
    assert await old_timer.count_documents({}) == 3
    await assert_consistent(store)


def borrowed_pool(store: Store, pool: tuple[str, ...]) -> Store:
    """The test's databases, as a service configured with another pool would see them."""
    return replace(borrowed(store), tenant_pool=pool or (store.default_tenant_db,))
