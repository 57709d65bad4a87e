"""A copy whose writes miss their write concern is never switched to: the registry stays
on the source, which keeps every document, and the same operation succeeds once the
database confirms writes again."""

import pytest

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.operations.placement import move_organization
from app.registry.tenants import TenantCopyUnconfirmed
from tests.conftest import running
from tests.crash import MissWriteConcern, gated_store
from tests.organizations.test_move import COLLECTION, assert_moved, entry, seeded
from tests.support import NAME, assert_consistent, created_org, login, rename


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"tenant_db_count": 2, "tenant_copy_batch_size": 10, "recovery_grace_seconds": 0}
    )


async def test_a_move_whose_copy_misses_its_write_concern_stays_in_the_source(
    settings: Settings, store: Store
) -> None:
    source, target, ids = await seeded(settings, store)
    missed = MissWriteConcern(target)

    with pytest.raises(TenantCopyUnconfirmed):
        await move_organization(gated_store(store, missed), settings, NAME, target)

    assert missed.missed == 1
    found = await entry(store)
    assert (found["state"], found["tenant_database"]) == ("active", source)
    assert "pending_move" not in found
    assert sorted(await store.tenant_database(source)[COLLECTION].distinct("_id")) == sorted(ids)
    assert COLLECTION not in await store.tenant_database(target).list_collection_names()
    await assert_consistent(store)

    await move_organization(store, settings, NAME, target)
    await assert_moved(store, source, target, ids)


async def test_a_rename_by_copy_that_misses_its_write_concern_answers_503_unchanged(
    settings: Settings, store: Store
) -> None:
    copying = settings.model_copy(update={"tenant_move_strategy": "copy"})
    async with running(copying, store) as client:
        await created_org(client)
    database = (await entry(store))["tenant_database"]
    await store.tenant_database(database)[COLLECTION].insert_many([{"n": n} for n in range(5)])

    async with running(copying, gated_store(store, MissWriteConcern(database))) as client:
        response = await rename(client, await login(client), "Elsewhere")

    assert response.status_code == 503
    assert response.headers["retry-after"]
    organization = await store.master[ORGANIZATIONS].find_one({})
    assert organization is not None
    assert (organization["state"], organization["tenant_collection"]) == ("active", COLLECTION)
    assert await store.tenant_database(database)[COLLECTION].count_documents({}) == 5
    assert await store.tenant_database(database).list_collection_names() == [COLLECTION]
    await assert_consistent(store)

    async with running(copying, store) as client:
        assert (await rename(client, await login(client), "Elsewhere")).status_code == 200
    assert await store.tenant_database(database)["tenant_elsewhere"].count_documents({}) == 5
