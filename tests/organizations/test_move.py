"""Moving a tenant collection to another database: refusals, rollback, and a crash at every
step finished by recovery or by running the move again."""

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from bson import ObjectId
from pymongo.errors import ConnectionFailure

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store
from app.errors import AppError
from app.operations.errors import UnacceptableInput
from app.operations.placement import move_organization
from app.organizations.lifecycle import Checkpoint, Lifecycle, no_checkpoint
from app.organizations.recovery import LifecycleRecovery
from app.registry.errors import AlreadyInDatabase, OperationInProgress, TargetOccupied
from tests.conftest import running
from tests.crash import Crash, dying_store
from tests.support import (
    NAME,
    assert_consistent,
    bearer,
    created_org,
    login,
    rename,
    tenant_namespaces,
)

DOCUMENTS = 25
COLLECTION = "tenant_tech_innovations_corp"
STEPS = ["move.recorded", "move.copy_batch", "move.copied", "move.switched", "move.source_dropped"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"tenant_db_count": 2, "tenant_copy_batch_size": 10, "recovery_grace_seconds": 0}
    )


async def entry(store: Store) -> Document:
    found = await store.master[ORGANIZATIONS].find_one({"tenant_collection": COLLECTION})
    assert found is not None
    return found


async def seeded(settings: Settings, store: Store) -> tuple[str, str, list[ObjectId]]:
    """An organization with documents and an index: its database, the other pool database,
    and the documents' ids."""
    async with running(settings, store) as client:
        await created_org(client)
    source = (await entry(store))["tenant_database"]
    target = next(name for name in store.tenant_pool if name != source)
    collection = store.tenant_database(source)[COLLECTION]
    result = await collection.insert_many([{"n": n} for n in range(DOCUMENTS)])
    await collection.create_index("n", name="by_n")
    return source, target, list(result.inserted_ids)


async def assert_moved(store: Store, source: str, target: str, ids: list[ObjectId]) -> None:
    found = await entry(store)
    assert (found["state"], found["tenant_database"]) == ("active", target)
    moved = store.tenant_database(target)[COLLECTION]
    assert sorted(await moved.distinct("_id")) == sorted(ids)
    assert await moved.count_documents({}) == DOCUMENTS
    assert "by_n" in await moved.index_information()
    assert f"{source}.{COLLECTION}" not in await tenant_namespaces(store)
    await assert_consistent(store)


async def test_a_move_carries_documents_ids_and_indexes(settings: Settings, store: Store) -> None:
    source, target, ids = await seeded(settings, store)

    result = await move_organization(store, settings, NAME, target)

    assert (result.source, result.target, result.documents) == (source, target, DOCUMENTS)
    assert (result.resumed, result.in_pool) == (False, True)
    await assert_moved(store, source, target, ids)
    async with running(settings, store) as client:
        token = await login(client)
        organization_id = str((await entry(store))["_id"])
        listed = await client.get(
            f"/api/v1/organizations/{organization_id}/documents", headers=bearer(token)
        )
    assert listed.json()["total"] == DOCUMENTS


async def test_writes_wait_for_a_move_and_reads_go_on(settings: Settings, store: Store) -> None:
    source, target, ids = await seeded(settings, store)
    seen: dict[str, tuple[int, str | None]] = {}
    async with running(settings, store) as client:
        token = await login(client)
        base = f"/api/v1/organizations/{(await entry(store))['_id']}/documents"

        async def during_the_copy(step: str) -> None:
            if step == "move.copy_batch" and not seen:
                write = await client.post(base, json={"late": True}, headers=bearer(token))
                read = await client.get(base, headers=bearer(token))
                seen["write"] = (write.status_code, write.headers.get("retry-after"))
                seen["read"] = (read.status_code, str(read.json()["total"]))

        await move_organization(store, settings, NAME, target, checkpoint=during_the_copy)

    status, retry_after = seen["write"]
    assert status == 503
    assert retry_after is not None
    assert seen["read"] == (200, str(DOCUMENTS))
    await assert_moved(store, source, target, ids)


@pytest.mark.parametrize("step", STEPS)
async def test_a_crashed_move_is_finished_by_recovery(
    settings: Settings, store: Store, step: str
) -> None:
    source, target, ids = await seeded(settings, store)
    crash = Crash(step)

    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, target, checkpoint=crash.checkpoint
        )
    assert (await entry(store))["state"] == "moving"

    report = await LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint)).run(
        timedelta(0)
    )

    assert len(report.finished_moves) == 1
    await assert_moved(store, source, target, ids)


@pytest.mark.parametrize("step", STEPS)
async def test_a_crashed_move_is_finished_by_running_it_again(
    settings: Settings, store: Store, step: str
) -> None:
    source, target, ids = await seeded(settings, store)
    crash = Crash(step)
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, target, checkpoint=crash.checkpoint
        )

    result = await move_organization(store, settings, NAME, target)

    assert result.resumed
    await assert_moved(store, source, target, ids)


async def test_a_restarted_service_finishes_a_crashed_move(
    settings: Settings, store: Store
) -> None:
    source, target, ids = await seeded(settings, store)
    crash = Crash("move.copy_batch")
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, target, checkpoint=crash.checkpoint
        )

    async with running(settings, store):
        pass

    await assert_moved(store, source, target, ids)


def failing_at(step: str) -> Checkpoint:
    async def checkpoint(name: str) -> None:
        if name == step:
            raise RuntimeError(f"failed at {name}")

    return checkpoint


async def test_a_move_that_fails_before_the_switch_stays_where_it_was(
    settings: Settings, store: Store
) -> None:
    source, target, ids = await seeded(settings, store)

    with pytest.raises(RuntimeError):
        await move_organization(store, settings, NAME, target, checkpoint=failing_at("move.copied"))

    found = await entry(store)
    assert (found["state"], found["tenant_database"]) == ("active", source)
    assert sorted(await store.tenant_database(source)[COLLECTION].distinct("_id")) == sorted(ids)
    assert f"{target}.{COLLECTION}" not in await tenant_namespaces(store)
    await assert_consistent(store)


async def test_a_move_that_fails_after_the_switch_is_finished_and_reported_done(
    settings: Settings, store: Store
) -> None:
    source, target, ids = await seeded(settings, store)

    result = await move_organization(
        store, settings, NAME, target, checkpoint=failing_at("move.switched")
    )

    assert (result.source, result.documents) == (source, len(ids))
    await assert_moved(store, source, target, ids)


RefusalCase = Callable[[Store, str, str], Awaitable[str]]


async def occupied(store: Store, source: str, target: str) -> str:
    await store.tenant_database(target)[COLLECTION].insert_one({"stray": True})
    return target


async def same(store: Store, source: str, target: str) -> str:
    return source


async def master(store: Store, source: str, target: str) -> str:
    return store.master.name


async def bad_name(store: Store, source: str, target: str) -> str:
    return "no.dots"


@pytest.mark.parametrize(
    ("case", "error"),
    [
        (occupied, TargetOccupied),
        (same, AlreadyInDatabase),
        (master, UnacceptableInput),
        (bad_name, UnacceptableInput),
    ],
)
async def test_a_move_that_cannot_be_done_changes_nothing(
    settings: Settings, store: Store, case: RefusalCase, error: type[AppError]
) -> None:
    source, target, ids = await seeded(settings, store)
    destination = await case(store, source, target)
    before = await entry(store)

    with pytest.raises(error):
        await move_organization(store, settings, NAME, destination)

    assert await entry(store) == before
    assert sorted(await store.tenant_database(source)[COLLECTION].distinct("_id")) == sorted(ids)


async def test_no_move_starts_while_another_operation_is_unfinished(
    settings: Settings, store: Store
) -> None:
    _, target, _ = await seeded(settings, store)
    crash = Crash("move.recorded")
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, target, checkpoint=crash.checkpoint
        )
    elsewhere = "tenantry_tenants_elsewhere"

    with pytest.raises(OperationInProgress):
        await move_organization(store, settings, NAME, elsewhere)
    patient = settings.model_copy(update={"recovery_grace_seconds": 3600})
    async with running(patient, store) as client:
        renamed = await rename(client, await login(client), "Other Name")
    assert renamed.status_code == 409
    assert (await entry(store))["pending_move"]["target"] == target


async def test_a_move_out_of_the_pool_says_so(settings: Settings, store: Store) -> None:
    source, _, ids = await seeded(settings, store)
    dedicated = f"{store.default_tenant_db}_dedicated"

    result = await move_organization(store, settings, NAME, dedicated)

    assert not result.in_pool
    await assert_moved(store, source, dedicated, ids)


async def test_an_organization_recorded_before_placement_moves_too(
    settings: Settings, store: Store
) -> None:
    async with running(settings, replace(store, tenant_pool=(store.default_tenant_db,))) as client:
        await created_org(client)
    await store.master[ORGANIZATIONS].update_many({}, {"$unset": {"tenant_database": ""}})
    legacy = store.tenant_database(store.default_tenant_db)[COLLECTION]
    ids = (await legacy.insert_many([{"n": n} for n in range(DOCUMENTS)])).inserted_ids
    await legacy.create_index("n", name="by_n")
    target = store.tenant_pool[0]

    result = await move_organization(store, settings, NAME, target)

    assert result.source == store.default_tenant_db
    await assert_moved(store, store.default_tenant_db, target, list(ids))


@pytest.mark.parametrize("target", ["admin", "local", "CONFIG", "TENANTRY", "Tenantry_Tenants_2"])
async def test_a_reserved_or_case_variant_database_is_refused_as_a_target(
    settings: Settings, store: Store, target: str
) -> None:
    await seeded(settings, store)

    with pytest.raises(UnacceptableInput, match=repr(target)):
        await move_organization(store, settings, NAME, target)
    assert (await entry(store))["state"] == "active"
