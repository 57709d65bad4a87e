"""Collections and indexes counted per database and per cluster; warnings, metrics, placement."""

import logging

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.registry.capacity import Level, Role, measure
from tests.conftest import running
from tests.support import created_org

FIRST, SECOND = "tenantry_tenants_1", "tenantry_tenants_2"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"tenant_db_count": 2})


async def organizations(client: AsyncClient, count: int) -> None:
    for number in range(count):
        await created_org(client, name=f"Org {number}", email=f"o{number}@example.com")


async def test_each_of_tenantrys_databases_is_counted_with_its_role(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await organizations(client, 4)
    await store.tenant_database("reports")["monthly"].insert_one({"n": 1})
    # Org 1 lives in a database since taken out of the pool.
    org_1 = await store.master[ORGANIZATIONS].find_one_and_update(
        {"name": "Org 1"}, {"$set": {"tenant_database": "retired"}}
    )
    assert org_1 is not None
    await store.tenant_database(org_1["tenant_database"]).drop_collection("tenant_org_1")
    await store.tenant_database("retired")["tenant_org_1"].insert_one({"n": 1})

    report = await measure(store, settings)

    by_name = {database.name: database for database in report.databases}
    assert by_name["tenantry"].role is Role.MASTER
    assert "reports" not in by_name  # not Tenantry's: neither listed nor counted
    assert by_name["retired"].role is Role.DRAINING
    assert by_name["retired"].organizations == 1
    tenants = [by_name[FIRST], by_name[SECOND]]
    assert [database.role for database in tenants] == [Role.TENANT, Role.TENANT]
    assert sorted(d.organizations for d in tenants) == [1, 2]
    listed = [
        name
        for database in (FIRST, SECOND)
        for name in await store.tenant_database(database).list_collection_names()
    ]
    assert sum(d.collections for d in tenants) == len(listed)
    assert len(listed) == 3  # four organizations, one of them retired elsewhere
    # Each tenant collection has its _id index and the two its document list reads by.
    assert sum(d.indexes for d in tenants) == 3 * len(listed)
    assert report.cluster_namespaces == sum(d.namespaces for d in report.databases)
    assert report.warnings() == []


async def test_levels_follow_the_limits(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    await organizations(client, 4)  # two per database: 8 collections+indexes each
    tight = settings.model_copy(
        update={"capacity_database_limit": 9, "capacity_cluster_limit": 10**6}
    )

    report = await measure(store, tight)

    levels = {d.name: report.level_of(d) for d in report.databases}
    assert (levels[FIRST], levels[SECOND]) == (Level.WARNING, Level.WARNING)
    assert levels["tenantry"] is Level.OVER  # the master database has more than 9
    assert report.cluster_level is Level.OK
    assert report.full_databases() == {"tenantry"}
    assert len(report.warnings()) == 3


async def test_the_service_warns_at_start_up_and_exposes_the_counts(
    client: AsyncClient, store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    await organizations(client, 4)
    tight = settings.model_copy(update={"capacity_database_limit": 9})

    with caplog.at_level(logging.WARNING, logger="app.registry.capacity"):
        async with running(tight, store) as restarted:
            metrics = (await restarted.get("/metrics")).text

    warnings = [r.getMessage() for r in caplog.records if r.name == "app.registry.capacity"]
    assert any(f"database {FIRST}: 8 collections+indexes, 89% of the 9" in w for w in warnings)
    assert f'tenantry_database_collections{{database="{FIRST}",role="tenant"}} 2.0' in metrics
    assert f'tenantry_database_indexes{{database="{FIRST}",role="tenant"}} 6.0' in metrics
    assert f'tenantry_database_organizations{{database="{SECOND}"}} 2.0' in metrics
    assert f'tenantry_database_capacity_level{{database="{FIRST}"}} 1.0' in metrics
    assert 'tenantry_capacity_limit{scope="database"} 9.0' in metrics
    assert "tenantry_cluster_collections_and_indexes " in metrics
    assert "tenantry_cluster_capacity_level 0.0" in metrics


async def test_new_organizations_avoid_a_database_at_its_limit(
    store: Store, settings: Settings
) -> None:
    # Another application's collections fill the first database; the registry knows nothing
    # of them, so only the count of collections and indexes can steer placement away.
    for number in range(6):
        await store.tenant_database(FIRST).create_collection(f"someone_elses_{number}")
    limited = settings.model_copy(update={"capacity_database_limit": 6})

    async with running(limited, store) as client:
        await organizations(client, 3)

    entries = await store.master[ORGANIZATIONS].find({}).to_list()
    assert {entry["tenant_database"] for entry in entries} == {SECOND}
