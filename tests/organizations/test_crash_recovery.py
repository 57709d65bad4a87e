"""A crash at any step boundary of create, rename or delete is repaired at the next start.

Each test runs an operation in an app whose process "dies" at one checkpoint, then starts a
fresh app on the same database and checks that recovery left a consistent state: no document
lost, no collection shared or orphaned, no organization pointing at a missing collection.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId
from httpx import AsyncClient, Response

from app.config import Settings
from app.db.schema import IDENTIFIER_CLAIMS, ORGANIZATIONS
from app.db.store import Store
from app.organizations.lifecycle import Lifecycle, no_checkpoint
from app.organizations.recovery import LifecycleRecovery, RecoveryReport
from app.registry.claims import IdentifierClaims, UnsettledClaims
from tests.conftest import running
from tests.crash import Crash, dying_store
from tests.support import (
    NAME,
    assert_consistent,
    bearer,
    create_org,
    created_org,
    delete,
    login,
    rename,
    tenants,
)

DOCUMENTS = 25
OLD = "tenant_tech_innovations_corp"
NEW_NAME = "Tech Innovations Corp 2.0"
NEW = "tenant_tech_innovations_corp_2_0"


@pytest.fixture
def recovering(settings: Settings) -> Settings:
    return settings.model_copy(update={"recovery_grace_seconds": 0, "tenant_copy_batch_size": 10})


async def seeded(settings: Settings, store: Store) -> tuple[str, list[ObjectId]]:
    """An organization with documents and an index, settled by a recovery sweep as a live one
    is (its claim no longer read by the sweep); returns its owner's token and the ids."""
    async with running(settings, store) as client:
        await created_org(client)
        token = await login(client)
    await LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint)).run(timedelta(0))
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({"unsettled_since": False}) == 1
    collection = tenants(store)[OLD]
    result = await collection.insert_many([{"n": i} for i in range(DOCUMENTS)])
    await collection.create_index("n", name="by_n")
    return token, list(result.inserted_ids)


async def interrupt(
    settings: Settings,
    store: Store,
    step: str,
    request: Callable[[AsyncClient], Awaitable[Response]],
) -> None:
    """Make `request` in an instance that dies at `step`; the client sees a 503."""
    crash = Crash(step)
    async with running(settings, dying_store(store, crash), crash.checkpoint) as client:
        response = await request(client)
    assert crash.happened
    assert response.status_code == 503


CREATE_STEPS = [
    "create.claimed",
    "create.registered",
    "create.owner_added",
    "create.collection_created",
]


@pytest.mark.parametrize("step", CREATE_STEPS)
async def test_a_create_interrupted_at_any_step_is_rolled_back(
    recovering: Settings, store: Store, step: str
) -> None:
    await interrupt(recovering, store, step, create_org)

    async with running(recovering, store) as client:
        await assert_consistent(store)
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 404
        assert (await create_org(client)).status_code == 201
    await assert_consistent(store)


RENAME_STEPS = {
    "auto": [
        "rename.claimed",
        "rename.recorded",
        "rename.moved",
        "rename.switched",
        "rename.source_dropped",
    ],
    "copy": [
        "rename.claimed",
        "rename.recorded",
        "rename.copy_batch",
        "rename.moved",
        "rename.switched",
        "rename.source_dropped",
    ],
}


@pytest.mark.parametrize(
    ("strategy", "step"),
    [(strategy, step) for strategy, steps in RENAME_STEPS.items() for step in steps],
)
async def test_a_rename_interrupted_at_any_step_keeps_every_document(
    recovering: Settings, store: Store, strategy: str, step: str
) -> None:
    settings = recovering.model_copy(update={"tenant_move_strategy": strategy})
    token, ids = await seeded(settings, store)
    await interrupt(settings, store, step, lambda client: rename(client, token, NEW_NAME))

    async with running(settings, store) as client:
        await assert_consistent(store)
        organization = await store.master[ORGANIZATIONS].find_one({})
        assert organization is not None
        # Before the rename was recorded it is undone; from then on it is finished.
        expected = OLD if step == "rename.claimed" else NEW
        assert organization["tenant_collection"] == expected
        documents = await tenants(store)[expected].find({}).to_list()
        assert sorted(d["_id"] for d in documents) == sorted(ids)
        assert "by_n" in await tenants(store)[expected].index_information()
        found = await client.get("/org/get", params={"organization_name": organization["name"]})
        assert found.json()["tenant_collection"] == expected
        again = await rename(client, token, "Third Name")
        assert again.status_code == 200
        assert again.json()["documents_migrated"] == DOCUMENTS
    await assert_consistent(store)


DELETE_STEPS = [
    "delete.marked",
    "delete.collection_dropped",
    "delete.accounts_deleted",
    "delete.registry_deleted",
]


@pytest.mark.parametrize("step", DELETE_STEPS)
async def test_a_delete_interrupted_at_any_step_is_finished(
    recovering: Settings, store: Store, step: str
) -> None:
    token, _ = await seeded(recovering, store)
    await interrupt(recovering, store, step, lambda client: delete(client, token))

    async with running(recovering, store) as client:
        await assert_consistent(store)
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert await tenants(store).list_collection_names() == []
        assert (await rename(client, token, "Zombie")).status_code == 401
        assert (await create_org(client)).status_code == 201


async def test_tokens_are_refused_while_a_delete_is_unfinished(
    settings: Settings, store: Store
) -> None:
    token, _ = await seeded(settings, store)
    crash = Crash("delete.collection_dropped")
    async with running(settings, dying_store(store, crash), crash.checkpoint) as client:
        await delete(client, token)

    # settings keeps the default grace period: the unfinished delete is left for later.
    async with running(settings, store) as client:
        response = await client.put(
            "/org/update",
            json={"organization_name": "X Corp", "email": "a@b.co", "password": "12345678"},
            headers=bearer(token),
        )
        assert response.status_code == 401
        assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 404
        assert (await create_org(client)).status_code == 409


async def test_recent_operations_are_left_to_the_instance_running_them(
    settings: Settings, store: Store
) -> None:
    now = datetime.now(UTC)
    await store.master[ORGANIZATIONS].insert_one(
        {
            "_id": ObjectId(),
            "name": "In Flight",
            "name_key": "in flight",
            "identifier": "in-flight",
            "tenant_collection": "tenant_in_flight",
            "admin_id": ObjectId(),
            "state": "provisioning",
            "created_at": now,
            "modified_at": now,
        }
    )

    report = await LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint)).run(
        timedelta(seconds=120)
    )

    assert not report.changed_anything
    assert await store.master[ORGANIZATIONS].count_documents({"state": "provisioning"}) == 1


async def test_an_unowned_collection_with_documents_is_reported_not_dropped(
    settings: Settings, store: Store
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=1)
    await store.master[IDENTIFIER_CLAIMS].insert_one(
        {"_id": "stray", "organization_id": ObjectId(), "claimed_at": long_ago}
    )
    await tenants(store)["tenant_stray"].insert_one({"precious": True})

    report = await LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint)).run(
        timedelta(seconds=0)
    )

    assert report.needs_operator == ["tenantry_tenants.tenant_stray (claim stray)"]
    assert await tenants(store)["tenant_stray"].count_documents({}) == 1
    assert await store.master[IDENTIFIER_CLAIMS].count_documents({}) == 1


async def test_one_organization_recovery_cannot_settle_does_not_stop_the_service(
    recovering: Settings, store: Store
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=1)
    await store.master[ORGANIZATIONS].insert_one(
        {
            "_id": ObjectId(),
            "name": "Broken",
            "name_key": "broken",
            "identifier": "broken",
            "tenant_collection": "tenant_broken",
            "admin_id": ObjectId(),
            "state": "renaming",
            "pending_rename": {"unexpected": "shape"},
            "created_at": long_ago,
            "modified_at": long_ago,
        }
    )

    async with running(recovering, store) as client:
        assert (await client.get("/health")).status_code == 200
        assert (await create_org(client)).status_code == 201
    report = await LifecycleRecovery(Lifecycle.configured(store, recovering, no_checkpoint)).run(
        timedelta(0)
    )
    assert len(report.needs_operator) == 1


async def test_a_running_service_sweeps_for_interrupted_operations(
    recovering: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = await seeded(recovering, store)
    swept = asyncio.Event()
    real_run = LifecycleRecovery.run

    async def observed(self: LifecycleRecovery, grace: timedelta) -> RecoveryReport:
        report = await real_run(self, grace)
        if report.finished_deletes:
            swept.set()
        return report

    monkeypatch.setattr(LifecycleRecovery, "run", observed)
    sweeping = recovering.model_copy(update={"recovery_interval_seconds": 1})
    async with running(sweeping, store):
        # Another instance dies in the middle of a delete while this one keeps running.
        crash = Crash("delete.collection_dropped")
        async with running(recovering, dying_store(store, crash), crash.checkpoint) as client:
            await delete(client, token)
        assert crash.happened
        assert await store.master[ORGANIZATIONS].count_documents({}) == 1

        await asyncio.wait_for(swept.wait(), timeout=30)

    await assert_consistent(store)
    assert await store.master[ORGANIZATIONS].count_documents({}) == 0


async def test_a_stale_claim_never_costs_an_organization_its_live_collection(
    settings: Settings, store: Store
) -> None:
    async with running(settings, store) as client:
        created = await created_org(client)
    await tenants(store)[created["tenant_collection"]].insert_one({"precious": True})
    # An operator edited the identifier by hand; the claim on the old one stays behind.
    await store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(created["id"])}, {"$set": {"identifier": "hand-edited"}}
    )

    report = await LifecycleRecovery(Lifecycle.configured(store, settings, no_checkpoint)).run(
        timedelta(0)
    )

    assert await tenants(store)[created["tenant_collection"]].count_documents({}) == 1
    assert any("in use" in entry for entry in report.needs_operator)


async def test_a_claim_the_sweep_missed_is_settled_once_its_organization_is_read(
    recovering: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(recovering, store) as client:
        created = await created_org(client)
    claims = store.master[IDENTIFIER_CLAIMS]
    [claim] = await claims.find({}).to_list()
    assert claim["unsettled_since"] is not False

    async def join_found_no_holder(self: IdentifierClaims, cutoff: datetime) -> UnsettledClaims:
        # What a store whose join answers no identifier makes of every claim.
        return UnsettledClaims(
            unaccounted=[(claim["_id"], claim["organization_id"], claim["unsettled_since"])]
        )

    with monkeypatch.context() as patched:
        patched.setattr(IdentifierClaims, "unsettled_before", join_found_no_holder)
        report = await LifecycleRecovery(
            Lifecycle.configured(store, recovering, no_checkpoint)
        ).run(timedelta(0))

    assert not report.changed_anything
    assert not report.needs_operator
    settled = await claims.find_one({"_id": claim["_id"]})
    assert settled is not None
    assert settled["unsettled_since"] is False
    swept_again = await IdentifierClaims(store).unsettled_before(datetime.now(UTC))
    assert swept_again == UnsettledClaims()
    assert await store.master[ORGANIZATIONS].count_documents({"_id": ObjectId(created["id"])})
