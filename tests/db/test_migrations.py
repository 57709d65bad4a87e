"""Start-up runs each migration until one run finds nothing to change, then skips it; and an
index that cannot be created is named with its collection."""

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from app.config import ConfigurationError, Settings
from app.db.schema import (
    ACCOUNTS,
    MASTER_INDEXES,
    MIGRATIONS,
    ORGANIZATIONS,
    IndexConflict,
    ensure_declared,
)
from app.db.store import Store, TenantNamespace
from app.registry.tenants import TenantCollections
from app.startup import migrate_in_background, prepare_database
from tests.queries import Recorder, recording_store


async def test_a_start_after_the_first_skips_every_migration(
    store: Store, settings: Settings
) -> None:
    await prepare_database(store, settings)
    await migrate_in_background(store)
    marked = {marker["_id"] for marker in await store.master[MIGRATIONS].find({}).to_list()}
    recorder = Recorder()

    await prepare_database(recording_store(store, recorder), settings)
    await migrate_in_background(recording_store(store, recorder))

    assert "memberships-from-account-roles" in marked
    assert "default-workspaces" in marked
    assert any(name.startswith("tenant-indexes-") for name in marked)
    read = {(query.collection, query.call) for query in recorder.queries}
    assert (ACCOUNTS, "find") not in read  # the legacy-role search, an unindexed $exists
    assert read <= {(MIGRATIONS, "find_one"), (ORGANIZATIONS, "update_many")}


async def test_the_tenant_index_migration_runs_after_start_up_not_during_it(
    store: Store, settings: Settings
) -> None:
    await prepare_database(store, settings)
    await TenantCollections(store).create(TenantNamespace(store.default_tenant_db, "tenant_old"))
    await store.master[ORGANIZATIONS].insert_one(
        {
            "_id": ObjectId(),
            "name": "Old",
            "name_key": "old",
            "identifier": "old",
            "tenant_collection": "tenant_old",
            "tenant_database": store.default_tenant_db,
            "state": "active",
        }
    )
    tenant = store.tenant_database(store.default_tenant_db)["tenant_old"]
    await tenant.drop_index("created")
    recorder = Recorder()

    await prepare_database(recording_store(store, recorder), settings)

    assert "created" not in await tenant.index_information()
    assert all(query.database == store.master.name for query in recorder.queries)
    await migrate_in_background(store)
    assert "created" in await tenant.index_information()


async def test_a_deleted_marker_runs_its_migration_again(store: Store, settings: Settings) -> None:
    await prepare_database(store, settings)
    organization_id = ObjectId()
    await store.master[ORGANIZATIONS].insert_one({"_id": organization_id, "name": "Legacy"})
    await store.master[MIGRATIONS].delete_one({"_id": "memberships-from-account-roles"})

    await prepare_database(store, settings)

    entry = await store.master[ORGANIZATIONS].find_one({"_id": organization_id})
    assert entry is not None
    assert entry["owner_count"] == 1


class _Conflicting:
    """A collection whose server refuses one index as a real one does (code 85)."""

    name = "accounts"

    async def index_information(self) -> dict[str, object]:
        return {}

    async def create_indexes(self, indexes: list[object]) -> None:
        if any(index.document["name"] == "email_key_unique" for index in indexes):  # type: ignore[attr-defined]
            raise OperationFailure(
                "Index already exists with a different name: email_1",
                code=85,
                details={"errmsg": "Index already exists with a different name: email_1"},
            )


async def test_an_index_conflict_names_the_index_and_collection(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = next(spec for spec in MASTER_INDEXES if spec.collection == ACCOUNTS)
    with pytest.raises(IndexConflict) as refused:
        await ensure_declared(_Conflicting(), spec.indexes)  # type: ignore[arg-type]

    assert (refused.value.collection, refused.value.index, refused.value.code) == (
        "accounts",
        "email_key_unique",
        85,
    )

    async def conflicting(_: Store) -> None:
        raise refused.value

    monkeypatch.setattr("app.startup.ensure_indexes", conflicting)
    with pytest.raises(ConfigurationError, match="'email_key_unique' on collection 'accounts'"):
        await prepare_database(store, settings)
