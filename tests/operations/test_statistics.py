"""`gather_statistics`: totals, breakdowns and the largest tenants."""

from bson import ObjectId
from httpx import AsyncClient

from app.access.roles import Role
from app.config import Settings
from app.db.schema import IDENTIFIER_CLAIMS
from app.db.store import Store
from app.operations.statistics import TenantSize, gather_statistics
from tests.operations.registry_edits import edit_entry
from tests.support import add_account, created_org, tenants


async def test_statistics_count_and_rank_the_deployment(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    sizes = {"Small": 2, "Large": 9, "Medium": 5, "Empty": 0}
    created = {}
    for name, documents in sizes.items():
        created[name] = await created_org(client, name, f"owner@{name.lower()}.example")
        if documents:
            collection = tenants(store)[created[name]["tenant_collection"]]
            await collection.insert_many([{"n": n} for n in range(documents)])
    await edit_entry(store, created["Large"]["id"], {"$set": {"plan": "pro"}})
    await edit_entry(store, created["Small"]["id"], {"$set": {"status": "suspended"}})
    await add_account(store, created["Medium"]["id"], "member@medium.example", Role.MEMBER)

    statistics = await gather_statistics(store, settings, top=2)

    assert statistics.totals == {
        "organizations": 4,
        "accounts": 5,
        "memberships": 5,
        "identifier claims": 4,
    }
    assert statistics.by_state == {
        "provisioning": 0,
        "active": 4,
        "renaming": 0,
        "moving": 0,
        "deleting": 0,
        "trashing": 0,
        "deleted": 0,
        "restoring": 0,
    }
    assert statistics.by_status == {"active": 3, "suspended": 1}
    assert statistics.by_plan == {"free": 3, "pro": 1, "enterprise": 0}
    database = store.default_tenant_db
    assert statistics.largest_by_documents == [
        TenantSize("Large", f"{database}.tenant_large", 9, None),
        TenantSize("Medium", f"{database}.tenant_medium", 5, None),
    ]
    # The in-memory store reports no storage sizes, and the statistics say so.
    assert statistics.largest_by_storage == []
    assert not statistics.storage_known


async def test_tenants_in_an_operation_or_without_a_collection_are_not_ranked(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    busy = await created_org(client, "Busy", "busy@example.com")
    gone = await created_org(client, "Gone", "gone@example.com")
    await created_org(client, "Kept", "kept@example.com")
    await tenants(store)[busy["tenant_collection"]].insert_many([{"n": n} for n in range(4)])
    await edit_entry(store, busy["id"], {"$set": {"state": "renaming"}})
    await tenants(store).drop_collection(gone["tenant_collection"])
    await store.master[IDENTIFIER_CLAIMS].insert_one(
        {"_id": "stray", "organization_id": ObjectId()}
    )

    statistics = await gather_statistics(store, settings, top=10)

    assert [size.organization for size in statistics.largest_by_documents] == ["Kept"]
    assert statistics.by_state["renaming"] == 1
    assert statistics.by_state["active"] == 2
    assert statistics.totals["identifier claims"] == 4


async def test_an_empty_deployment_has_zero_counts(store: Store, settings: Settings) -> None:
    statistics = await gather_statistics(store, settings, top=5)

    assert set(statistics.totals.values()) == {0}
    assert set(statistics.by_state.values()) == {0}
    assert statistics.by_plan == {"free": 0, "pro": 0, "enterprise": 0}
    assert statistics.largest_by_documents == []
    # Nothing to measure is not an unknown size.
    assert statistics.storage_known
