"""Placement, a move between databases and the capacity count through the real driver."""

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from app.config import Settings
from app.db.connect import open_store
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store
from app.factory import create_app
from app.operations.placement import move_organization
from app.registry.capacity import Role, measure
from tests.support import created_org

pytestmark = pytest.mark.wire


@pytest.fixture
def pooled(wire_settings: Settings) -> Settings:
    return wire_settings.model_copy(update={"tenant_db_count": 2})


@pytest.fixture
async def pooled_store(pooled: Settings) -> AsyncIterator[Store]:
    store = open_store(pooled)
    yield store
    cleanup: AsyncMongoClient[Document] = AsyncMongoClient(pooled.mongo_uri)
    try:
        for name in (pooled.primary_db, pooled.tenant_db, *pooled.tenant_pool):
            await cleanup.drop_database(name)
    finally:
        await cleanup.close()
        await store.close()


@pytest.fixture
async def pooled_client(pooled: Settings, pooled_store: Store) -> AsyncIterator[AsyncClient]:
    async with (
        LifespanManager(create_app(pooled)) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


async def test_organizations_are_spread_moved_and_counted(
    pooled: Settings, pooled_store: Store, pooled_client: AsyncClient
) -> None:
    first = await created_org(pooled_client, name="First", email="first@example.com")
    second = await created_org(pooled_client, name="Second", email="second@example.com")
    entries = {
        entry["name"]: entry
        for entry in await pooled_store.master[ORGANIZATIONS].find({}).to_list()
    }
    assert {entry["tenant_database"] for entry in entries.values()} == set(pooled_store.tenant_pool)
    source = entries["First"]["tenant_database"]
    target = entries["Second"]["tenant_database"]
    collection = pooled_store.tenant_database(source)[first["tenant_collection"]]
    ids = (await collection.insert_many([{"n": n} for n in range(30)])).inserted_ids

    result = await move_organization(pooled_store, pooled, "First", target)

    assert (result.source, result.target, result.documents) == (source, target, 30)
    moved = pooled_store.tenant_database(target)[first["tenant_collection"]]
    copied = await moved.find({}, {"_id": 1}).to_list()
    assert sorted(document["_id"] for document in copied) == sorted(ids)
    remaining = await pooled_store.tenant_database(source).list_collection_names()
    assert first["tenant_collection"] not in remaining
    report = await measure(pooled_store, pooled)
    by_name = {database.name: database for database in report.databases}
    assert by_name[target].role is Role.TENANT
    assert by_name[target].organizations == 2
    assert {first["tenant_collection"], second["tenant_collection"]} <= set(
        await pooled_store.tenant_database(target).list_collection_names()
    )
    assert by_name[target].collections >= 2
