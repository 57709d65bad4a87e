"""A crash at any step boundary of a soft delete, a restore or a purge is settled at the next
start: the soft delete and the restore finished (every document and index where the registry
says), the purge finished with nothing left behind."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.audit.trail import AuditTrail
from app.config import Settings
from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Store
from app.operations.outbox import build_outbox
from app.organizations.lifecycle import Lifecycle
from app.organizations.retention import PurgeSweep
from app.registry.repository import OrganizationRepository
from tests.conftest import running
from tests.crash import Crash, dying_store
from tests.organizations.test_crash_recovery import DOCUMENTS, OLD, interrupt
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    assert_consistent,
    bearer,
    create_org,
    created_org,
    login,
    tenants,
)

Request = Callable[[AsyncClient], Awaitable[Response]]
TRASH_STEPS = ["trash.marked", "trash.moved", "trash.settled"]
RESTORE_STEPS = ["restore.marked", "restore.moved", "restore.settled"]
PURGE_STEPS = [
    "purge.marked",
    "delete.collection_dropped",
    "delete.trash_dropped",
    "delete.accounts_deleted",
    "delete.registry_deleted",
]


@pytest.fixture
def recovering(settings: Settings) -> Settings:
    return settings.model_copy(update={"recovery_grace_seconds": 0, "tenant_copy_batch_size": 10})


async def seeded(settings: Settings, store: Store) -> tuple[str, str, list[ObjectId]]:
    """An organization with documents and an index: its id, its owner's token, the ids."""
    async with running(settings, store) as client:
        org_id: str = (await created_org(client))["id"]
        token = await login(client)
    collection = tenants(store)[OLD]
    result = await collection.insert_many([{"n": i} for i in range(DOCUMENTS)])
    await collection.create_index("n", name="by_n")
    return org_id, token, list(result.inserted_ids)


def soft_delete(org_id: str, token: str) -> Request:
    async def request(client: AsyncClient) -> Response:
        return await client.delete(f"/api/v1/organizations/{org_id}", headers=bearer(token))

    return request


def restore(org_id: str) -> Request:
    async def request(client: AsyncClient) -> Response:
        return await client.post(
            f"/api/v1/organizations/{org_id}/restore",
            json={"email": EMAIL, "password": PASSWORD},
        )

    return request


async def assert_in_trash(store: Store, org_id: str, ids: list[ObjectId]) -> None:
    entry = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(org_id)})
    assert entry is not None
    assert entry["state"] == "deleted"
    trash = tenants(store)[entry["trash"]["collection"]]
    assert sorted(d["_id"] for d in await trash.find({}).to_list()) == sorted(ids)
    assert "by_n" in await trash.index_information()
    assert OLD not in await tenants(store).list_collection_names()
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({"_id": entry["identifier"]})


async def assert_restored(store: Store, ids: list[ObjectId]) -> None:
    await assert_consistent(store)
    collection = tenants(store)[OLD]
    assert sorted(d["_id"] for d in await collection.find({}).to_list()) == sorted(ids)
    assert "by_n" in await collection.index_information()
    entry = await store.master[ORGANIZATIONS].find_one({})
    assert entry is not None
    assert "trash" not in entry


@pytest.mark.parametrize("strategy", ["auto", "copy"])
@pytest.mark.parametrize("step", TRASH_STEPS)
async def test_a_soft_delete_interrupted_at_any_step_is_finished(
    recovering: Settings, store: Store, step: str, strategy: str
) -> None:
    settings = recovering.model_copy(update={"tenant_move_strategy": strategy})
    org_id, token, ids = await seeded(settings, store)
    await interrupt(settings, store, step, soft_delete(org_id, token))

    async with running(settings, store) as client:
        await assert_in_trash(store, org_id, ids)
        assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 404
        assert (await create_org(client, email="new@techcorp.com")).status_code == 409
        assert (await restore(org_id)(client)).status_code == 200
    await assert_restored(store, ids)


@pytest.mark.parametrize("strategy", ["auto", "copy"])
@pytest.mark.parametrize("step", RESTORE_STEPS)
async def test_a_restore_interrupted_at_any_step_is_finished(
    recovering: Settings, store: Store, step: str, strategy: str
) -> None:
    settings = recovering.model_copy(update={"tenant_move_strategy": strategy})
    org_id, token, ids = await seeded(settings, store)
    async with running(settings, store) as client:
        assert (await soft_delete(org_id, token)(client)).status_code == 200
    await interrupt(settings, store, step, restore(org_id))

    async with running(settings, store) as client:
        await assert_restored(store, ids)
        fresh = await login(client)
        read = await client.get(f"/api/v1/organizations/{org_id}", headers=bearer(fresh))
        assert read.json()["statistics"]["tenant_documents"] == DOCUMENTS


@pytest.mark.parametrize("step", PURGE_STEPS)
async def test_a_purge_interrupted_at_any_step_is_finished(
    recovering: Settings, store: Store, step: str
) -> None:
    org_id, token, _ = await seeded(recovering, store)
    async with running(recovering, store) as client:
        assert (await soft_delete(org_id, token)(client)).status_code == 200
    crash = Crash(step)
    dying = dying_store(store, crash)
    sweep = PurgeSweep(
        Lifecycle.configured(dying, recovering, crash.checkpoint),
        OrganizationRepository(dying),
        AuditTrail(dying),
        build_outbox(recovering, dying),
        clock=lambda: datetime.now(UTC) + timedelta(days=8),
    )
    assert await sweep.run() == []
    assert crash.happened

    async with running(recovering, store) as client:
        await assert_consistent(store)
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert await tenants(store).list_collection_names() == []
        assert (await restore(org_id)(client)).status_code in (401, 404)
        assert (await create_org(client)).status_code == 201
