"""`move_organization` and `plan_rebalance`, judged by their results and the registry."""

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from bson import ObjectId
from httpx import AsyncClient
from pymongo.errors import ConnectionFailure

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store, TenantNamespace
from app.errors import AppError
from app.operations.errors import UnacceptableInput
from app.operations.organizations import resolve_organization
from app.operations.placement import MoveResult, move_organization, plan_rebalance
from app.operations.verify import verify
from app.registry.errors import (
    AlreadyInDatabase,
    OperationInProgress,
    OrganizationNotFound,
    TargetOccupied,
)
from app.registry.models import LifecycleState
from tests.crash import Crash, dying_store
from tests.operations.registry_edits import edit_entry, snapshot
from tests.support import NAME, created_org

FIRST, SECOND, THIRD = "tenantry_tenants_1", "tenantry_tenants_2", "tenantry_tenants_3"
COLLECTION = "tenant_tech_innovations_corp"
DOCUMENTS = 12
STEPS = ["move.recorded", "move.copy_batch", "move.copied", "move.switched", "move.source_dropped"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Organizations are created in FIRST; tests widen the pool by replacing the store's.
    return settings.model_copy(update={"tenant_db_count": 1, "tenant_copy_batch_size": 5})


class Stopped(Exception):
    """The operator's process stopping between two steps."""


def pooled(store: Store, *pool: str) -> Store:
    return replace(store, tenant_pool=pool)


async def seeded(client: AsyncClient, store: Store) -> list[Document]:
    """One organization in FIRST whose collection holds documents and an index."""
    await created_org(client)
    collection = store.tenant_database(FIRST)[COLLECTION]
    await collection.insert_many([{"n": n, "tag": f"t{n}"} for n in range(DOCUMENTS)])
    await collection.create_index("n", name="by_n")
    return await collection.find({}).sort("_id", 1).to_list()


async def documents_in(store: Store, database: str) -> list[Document]:
    return await store.tenant_database(database)[COLLECTION].find({}).sort("_id", 1).to_list()


async def entry(store: Store) -> Document:
    found = await store.master[ORGANIZATIONS].find_one({"tenant_collection": COLLECTION})
    assert found is not None
    return found


async def assert_moved_to(store: Store, target: str, documents: list[Document]) -> None:
    found = await entry(store)
    assert (found["state"], found["tenant_database"]) == ("active", target)
    assert "pending_move" not in found
    assert await documents_in(store, target) == documents
    assert "by_n" in await store.tenant_database(target)[COLLECTION].index_information()
    assert COLLECTION not in await store.tenant_database(FIRST).list_collection_names()
    assert (await verify(store)).clean


async def test_a_move_carries_documents_with_their_ids_and_updates_the_registry(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    documents = await seeded(client, store)
    wide = pooled(store, FIRST, SECOND)

    result = await move_organization(wide, settings, NAME, SECOND)

    assert result == MoveResult(
        organization=NAME,
        collection=COLLECTION,
        source=FIRST,
        target=SECOND,
        documents=DOCUMENTS,
        resumed=False,
        in_pool=True,
    )
    await assert_moved_to(store, SECOND, documents)
    organization = await resolve_organization(store, settings, NAME)
    assert organization.namespace == TenantNamespace(SECOND, COLLECTION)


async def test_a_move_passes_every_checkpoint_in_order(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await seeded(client, store)
    passed: list[str] = []

    async def note(step: str) -> None:
        passed.append(step)

    await move_organization(store, settings, NAME, SECOND, checkpoint=note)

    assert list(dict.fromkeys(passed)) == STEPS
    assert passed.count("move.copy_batch") >= DOCUMENTS // 5


async def test_a_move_out_of_the_pool_says_so(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    documents = await seeded(client, store)

    result = await move_organization(store, settings, NAME, SECOND)

    assert (result.target, result.in_pool, result.documents) == (SECOND, False, DOCUMENTS)
    await assert_moved_to(store, SECOND, documents)


async def test_an_empty_leftover_at_the_target_does_not_block_a_move(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    documents = await seeded(client, store)
    await store.tenant_database(SECOND).create_collection(COLLECTION)

    result = await move_organization(store, settings, NAME, SECOND)

    assert result.documents == DOCUMENTS
    await assert_moved_to(store, SECOND, documents)


async def occupied(store: Store) -> str:
    await store.tenant_database(SECOND)[COLLECTION].insert_one({"stray": True})
    return SECOND


async def same_database(store: Store) -> str:
    return FIRST


async def master_database(store: Store) -> str:
    return store.master.name


async def dotted_name(store: Store) -> str:
    return "no.dots"


async def empty_name(store: Store) -> str:
    return ""


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (occupied, TargetOccupied),
        (same_database, AlreadyInDatabase),
        (master_database, UnacceptableInput),
        (dotted_name, UnacceptableInput),
        (empty_name, UnacceptableInput),
    ],
)
async def test_a_move_that_cannot_be_done_is_refused_and_changes_nothing(
    client: AsyncClient,
    store: Store,
    settings: Settings,
    target: Callable[[Store], Awaitable[str]],
    error: type[AppError],
) -> None:
    await seeded(client, store)
    destination = await target(store)
    before = await snapshot(store)

    with pytest.raises(error):
        await move_organization(store, settings, NAME, destination)

    assert await snapshot(store) == before


async def test_moving_an_unknown_organization_is_refused(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await seeded(client, store)

    with pytest.raises(OrganizationNotFound):
        await move_organization(store, settings, "Nobody Inc", SECOND)
    with pytest.raises(OrganizationNotFound):
        await move_organization(store, settings, str(ObjectId()), SECOND)


async def test_an_organization_in_another_operation_is_not_moved(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await seeded(client, store)
    await edit_entry(store, str((await entry(store))["_id"]), {"$set": {"state": "deleting"}})

    with pytest.raises(OperationInProgress):
        await move_organization(store, settings, NAME, SECOND)

    assert (await entry(store))["tenant_database"] == FIRST


async def test_a_move_stopped_after_it_was_recorded_resumes_when_run_again(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    documents = await seeded(client, store)

    async def stop_after_recording(step: str) -> None:
        if step == "move.recorded":
            raise Stopped

    with pytest.raises(Stopped):
        await move_organization(store, settings, NAME, SECOND, checkpoint=stop_after_recording)
    stopped = await entry(store)
    assert stopped["state"] == LifecycleState.MOVING.value
    assert stopped["pending_move"]["target"] == SECOND

    result = await move_organization(store, settings, NAME, SECOND)

    assert result.resumed
    assert (result.source, result.documents) == (FIRST, DOCUMENTS)
    await assert_moved_to(store, SECOND, documents)


@pytest.mark.parametrize("step", STEPS)
async def test_a_move_that_died_at_any_step_is_finished_by_running_it_again(
    client: AsyncClient, store: Store, settings: Settings, step: str
) -> None:
    documents = await seeded(client, store)
    crash = Crash(step)
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, SECOND, checkpoint=crash.checkpoint
        )
    assert (await entry(store))["state"] == LifecycleState.MOVING.value

    result = await move_organization(store, settings, NAME, SECOND)

    assert result.resumed
    assert result.documents == DOCUMENTS
    await assert_moved_to(store, SECOND, documents)


async def test_a_move_that_died_is_not_redirected_elsewhere(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await seeded(client, store)
    crash = Crash("move.copy_batch")
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash), settings, NAME, SECOND, checkpoint=crash.checkpoint
        )

    with pytest.raises(OperationInProgress):
        await move_organization(store, settings, NAME, THIRD)

    assert (await entry(store))["pending_move"]["target"] == SECOND


async def test_a_move_that_fails_during_the_copy_stays_where_it_was(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    documents = await seeded(client, store)

    async def failing(step: str) -> None:
        if step == "move.copy_batch":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        await move_organization(store, settings, NAME, SECOND, checkpoint=failing)

    found = await entry(store)
    assert (found["state"], found["tenant_database"]) == ("active", FIRST)
    assert "pending_move" not in found
    assert await documents_in(store, FIRST) == documents
    assert COLLECTION not in await store.tenant_database(SECOND).list_collection_names()
    assert (await verify(store)).clean


# Rebalancing: six organizations in FIRST, organization i holding i documents.


async def crowded(client: AsyncClient, store: Store) -> dict[str, str]:
    """The organizations' names by id."""
    names = {}
    for number in range(6):
        created = await created_org(client, f"Org {number}", f"o{number}@example.com")
        names[created["id"]] = created["organization_name"]
        if number:
            collection = store.tenant_database(FIRST)[created["tenant_collection"]]
            await collection.insert_many([{"n": n} for n in range(number)])
    return names


async def placed(store: Store) -> Counter[str]:
    entries = await store.master[ORGANIZATIONS].find({}, {"tenant_database": 1}).to_list()
    return Counter(entry["tenant_database"] for entry in entries)


async def test_rebalance_proposes_the_smallest_tenants_and_changes_nothing(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    names = await crowded(client, store)
    before = await snapshot(store)

    plan = await plan_rebalance(pooled(store, FIRST, SECOND, THIRD), settings, tolerance=0)

    assert await snapshot(store) == before
    assert plan.pool == [FIRST, SECOND, THIRD]
    assert plan.before == {FIRST: 6, SECOND: 0, THIRD: 0}
    assert plan.after == {FIRST: 2, SECOND: 2, THIRD: 2}
    assert plan.tolerance == 0
    assert [(move.organization, move.documents) for move in plan.moves] == [
        (f"Org {n}", n) for n in range(4)
    ]
    assert {move.source for move in plan.moves} == {FIRST}
    assert Counter(move.target for move in plan.moves) == {SECOND: 2, THIRD: 2}
    assert all(move.reason == "evens out the pool" for move in plan.moves)
    assert all(names[move.organization_id] == move.organization for move in plan.moves)
    assert plan.skipped_busy == 0


async def test_rebalance_tolerance_defaults_to_a_small_share_of_the_mean(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await crowded(client, store)

    plan = await plan_rebalance(pooled(store, FIRST, SECOND, THIRD), settings)

    assert plan.tolerance == 1
    assert max(plan.after.values()) - min(plan.after.values()) <= 1


async def test_rebalance_limit_caps_the_moves(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await crowded(client, store)

    plan = await plan_rebalance(pooled(store, FIRST, SECOND, THIRD), settings, tolerance=0, limit=2)

    assert len(plan.moves) == 2
    assert plan.after == {FIRST: 4, SECOND: 1, THIRD: 1}


async def test_rebalance_drains_a_database_taken_out_of_the_pool(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await crowded(client, store)

    plan = await plan_rebalance(pooled(store, SECOND, THIRD), settings)

    assert len(plan.moves) == 6
    assert all(move.reason == "outside the pool" for move in plan.moves)
    assert plan.after == {FIRST: 0, SECOND: 3, THIRD: 3}


async def test_rebalance_never_proposes_an_organization_in_an_operation(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    names = await crowded(client, store)
    busy = next(id_ for id_, name in names.items() if name == "Org 0")
    await edit_entry(store, busy, {"$set": {"state": "renaming"}})

    plan = await plan_rebalance(pooled(store, FIRST, SECOND, THIRD), settings, tolerance=0)

    assert busy not in {move.organization_id for move in plan.moves}
    assert plan.skipped_busy == 1
    assert [move.organization for move in plan.moves] == ["Org 1", "Org 2", "Org 3", "Org 4"]


async def test_a_balanced_pool_needs_no_move(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await crowded(client, store)

    plan = await plan_rebalance(store, settings, tolerance=0)

    assert plan.moves == []
    assert plan.before == plan.after == {FIRST: 6}


async def test_carrying_out_the_plan_evens_out_the_registry(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await crowded(client, store)
    wide = pooled(store, FIRST, SECOND, THIRD)
    plan = await plan_rebalance(wide, settings, tolerance=0)

    results = [
        await move_organization(wide, settings, move.organization_id, move.target)
        for move in plan.moves
    ]

    assert [result.documents for result in results] == [move.documents for move in plan.moves]
    assert await placed(store) == plan.after
    assert (await plan_rebalance(wide, settings, tolerance=0)).moves == []
    assert (await verify(wide)).clean
