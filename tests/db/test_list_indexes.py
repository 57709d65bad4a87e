"""The indexes the keyset lists read by, on a fresh database and on one an earlier version left."""

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from httpx import AsyncClient
from pymongo import ASCENDING, DESCENDING

from app import startup
from app.config import Settings
from app.db.schema import AUDIT_LOG, MEMBERSHIPS, MIGRATIONS, WORKSPACES
from app.db.store import Store
from tests.conftest import running
from tests.support import created_org, tenants


def keys(indexes: Mapping[str, Any], name: str) -> list[tuple[str, int]]:
    return [(field, int(direction)) for field, direction in indexes[name]["key"]]


async def test_each_list_has_an_index_ending_in_its_sort_and_id(
    client: AsyncClient, store: Store
) -> None:
    created = await created_org(client)
    memberships = await store.master[MEMBERSHIPS].index_information()
    audit = await store.master[AUDIT_LOG].index_information()
    tenant = await tenants(store)[created["tenant_collection"]].index_information()

    assert keys(memberships, "organization_created") == [
        ("organization_id", ASCENDING),
        ("created_at", ASCENDING),
        ("_id", ASCENDING),
    ]
    assert keys(audit, "organization_at") == [
        ("organization_id", ASCENDING),
        ("at", DESCENDING),
        ("_id", DESCENDING),
    ]
    assert keys(tenant, "workspace_created") == [
        ("workspace_id", ASCENDING),
        ("created_at", ASCENDING),
        ("_id", ASCENDING),
    ]
    assert keys(tenant, "created") == [("created_at", ASCENDING), ("_id", ASCENDING)]


async def test_start_up_brings_an_earlier_versions_indexes_up_to_date(
    client: AsyncClient, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrated = asyncio.Event()
    migrate = startup.migrate_in_background

    async def observed(store: Store) -> None:
        await migrate(store)
        migrated.set()

    monkeypatch.setattr(startup, "migrate_in_background", observed)
    created = await created_org(client)
    collection = tenants(store)[created["tenant_collection"]]
    # As the previous version declared them: the same names without `_id`, and no `created`.
    for owner, name, old in (
        (collection, "workspace_created", [("workspace_id", 1), ("created_at", 1)]),
        (
            store.master[WORKSPACES],
            "organization_created",
            [("organization_id", 1), ("created_at", 1)],
        ),
    ):
        await owner.drop_index(name)
        await owner.create_index(old, name=name)
    await collection.drop_index("created")
    # The earlier version ran before these declarations, so it left no marker of them.
    await store.master[MIGRATIONS].delete_many({})

    async with running(settings, store) as restarted:
        assert (await restarted.get("/health")).status_code == 200
        # The tenant collections' indexes are brought up to date in the background.
        await asyncio.wait_for(migrated.wait(), timeout=30)

    tenant = await collection.index_information()
    workspaces = await store.master[WORKSPACES].index_information()
    assert keys(tenant, "workspace_created")[-1] == ("_id", ASCENDING)
    assert keys(tenant, "created") == [("created_at", ASCENDING), ("_id", ASCENDING)]
    assert keys(workspaces, "organization_created")[-1] == ("_id", ASCENDING)
