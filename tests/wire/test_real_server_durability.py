"""Durability and races only a real MongoDB shows: write concern errors, transient
renameCollection failures and leases on the server's clock.

They need MONGODB_TEST_URI, and the fail-point tests a server started with
`--setParameter enableTestCommands=1` (configureFailPoint with failCommand); without it
they skip saying so. None runs on the in-memory store or nx-27017, which have neither.
"""

import contextlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pydantic import SecretStr
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from app.config import ExplicitSettings, Settings
from app.db.connect import open_store
from app.db.schema import ORGANIZATIONS
from app.db.store import Document, Store
from app.operations.placement import move_organization
from app.registry.errors import OrganizationBusy
from app.registry.repository import OrganizationRepository
from app.registry.tenants import TenantCopyUnconfirmed
from tests.conftest import running
from tests.organizations.test_move import COLLECTION, entry
from tests.support import NAME, created_org, login, rename

URI = os.environ.get("MONGODB_TEST_URI", "")
pytestmark = pytest.mark.skipif(not URI, reason="MONGODB_TEST_URI is not set: needs a real MongoDB")


@pytest.fixture
def real_settings() -> Settings:
    suffix = uuid.uuid4().hex[:12]
    return ExplicitSettings(
        mongo_uri=URI,
        primary_db=f"tenantry_test_{suffix}",
        tenant_db=f"tenantry_test_{suffix}_tenants",
        tenant_db_count=2,
        tenant_db_prefix=f"tenantry_test_{suffix}_tenants_",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        tenant_copy_batch_size=10,
        recovery_interval_seconds=0,
        signup_per_address_per_hour=0,
        signup_total_per_hour=0,
    )


@pytest.fixture
async def real_store(real_settings: Settings) -> AsyncIterator[Store]:
    store = open_store(real_settings)
    try:
        yield store
    finally:
        for name in await store.client.list_database_names():
            if name.startswith(real_settings.primary_db):
                await store.master.client.drop_database(name)
        await store.close()


@pytest.fixture
async def admin() -> AsyncIterator[AsyncMongoClient[Document]]:
    """A client of its own for fail points, so that none of them fails its own commands."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(URI, appname="tenantry-tests-admin")
    try:
        yield client
    finally:
        with contextlib.suppress(OperationFailure):
            await client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        await client.close()


async def fail_commands(admin: AsyncMongoClient[Document], times: int, **data: Any) -> None:
    """Turn on the failCommand fail point for the service's own client (appName) for the
    next `times` commands named in `data["failCommands"]`."""
    try:
        await admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": times},
                "data": {"appName": "tenantry", **data},
            }
        )
    except OperationFailure as refused:
        pytest.skip(f"configureFailPoint refused ({refused.code}): needs enableTestCommands=1")


async def seeded(settings: Settings, store: Store, documents: int = 25) -> tuple[str, str]:
    async with running(settings, store) as client:
        await created_org(client)
    source = (await entry(store))["tenant_database"]
    target = next(name for name in store.tenant_pool if name != source)
    await store.tenant_database(source)[COLLECTION].insert_many(
        [{"n": n} for n in range(documents)]
    )
    return source, target


async def test_a_copy_under_a_write_concern_error_neither_switches_nor_drops(
    real_settings: Settings, real_store: Store, admin: AsyncMongoClient[Document]
) -> None:
    source, target = await seeded(real_settings, real_store)
    # The insert is carried out, and its answer then carries a write concern error.
    await fail_commands(
        admin,
        1,
        failCommands=["insert"],
        writeConcernError={
            "code": 64,
            "codeName": "WriteConcernTimeout",
            "errmsg": "waiting for replication timed out",
            "errInfo": {"wtimeout": True},
        },
    )

    with pytest.raises(TenantCopyUnconfirmed):
        await move_organization(real_store, real_settings, NAME, target)

    found = await entry(real_store)
    assert (found["state"], found["tenant_database"]) == ("active", source)
    assert await real_store.tenant_database(source)[COLLECTION].count_documents({}) == 25
    assert COLLECTION not in await real_store.tenant_database(target).list_collection_names()


async def test_a_rename_is_tried_again_across_a_stepped_down_primary(
    real_settings: Settings, real_store: Store, admin: AsyncMongoClient[Document]
) -> None:
    source, _ = await seeded(real_settings, real_store, documents=5)
    await fail_commands(admin, 1, failCommands=["renameCollection"], errorCode=189)

    async with running(real_settings, real_store) as client:
        response = await rename(client, await login(client), "Elsewhere")

    assert response.status_code == 200
    assert response.json()["documents_migrated"] == 5
    organization = await real_store.master[ORGANIZATIONS].find_one({})
    assert organization is not None
    assert organization["tenant_collection"] == "tenant_elsewhere"
    assert await real_store.tenant_database(source).list_collection_names() == ["tenant_elsewhere"]


async def test_two_holders_past_expiry_never_both_hold_the_lease(real_store: Store) -> None:
    organizations = OrganizationRepository(real_store)
    organization_id = ObjectId()
    await real_store.master[ORGANIZATIONS].insert_one({"_id": organization_id})
    first = organizations.holding(organization_id, "invitations")
    a = await first.__aenter__()
    # The first holder stalls past its lease (an election, a paused process).
    await real_store.master[ORGANIZATIONS].update_one(
        {"_id": organization_id},
        {"$set": {"holds.invitations.expires_at": datetime.now(UTC) - timedelta(minutes=5)}},
    )
    second = organizations.holding(organization_id, "invitations", wait_seconds=1)
    b = await second.__aenter__()

    await first.__aexit__(None, None, None)

    with pytest.raises(OrganizationBusy):
        async with organizations.holding(organization_id, "invitations", wait_seconds=0.2):
            pytest.fail("a third holder got in beside the second")
    with pytest.raises(OrganizationBusy):
        await a.confirm()
    await b.confirm()
    await second.__aexit__(None, None, None)
