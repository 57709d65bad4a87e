"""Document writes and renames never cross: no write lands in a collection that moved."""

import asyncio

import pytest
from asgi_lifespan import LifespanManager
from bson import ObjectId
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.factory import create_app
from app.registry.write_leases import WriteLeases
from tests.conftest import borrowed
from tests.support import bearer, created_org, login, tenants


async def test_a_write_during_a_rename_is_told_to_retry(client: AsyncClient, store: Store) -> None:
    created = await created_org(client)
    token = await login(client)
    await store.master[ORGANIZATIONS].update_one(
        {"_id": ObjectId(created["id"])}, {"$set": {"state": "renaming"}}
    )

    response = await client.post(
        f"/api/v1/organizations/{created['id']}/documents", json={"n": 1}, headers=bearer(token)
    )

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert await tenants(store)[created["tenant_collection"]].count_documents({}) == 0


async def test_a_rename_waits_for_writes_under_way_and_gives_up_cleanly(
    settings: Settings, store: Store
) -> None:
    impatient = settings.model_copy(update={"rename_drain_seconds": 0.2})
    app = create_app(impatient, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        created = await created_org(client)
        token = await login(client)
        lease = await WriteLeases(store).acquire(ObjectId(created["id"]))
        rename_path = f"/api/v1/organizations/{created['id']}/rename"

        refused = await client.post(
            rename_path, json={"organization_name": "Moved Corp"}, headers=bearer(token)
        )
        await WriteLeases(store).release(lease)
        accepted = await client.post(
            rename_path, json={"organization_name": "Moved Corp"}, headers=bearer(token)
        )

    assert refused.status_code == 503
    assert accepted.status_code == 200
    assert await tenants(store).list_collection_names() == ["tenant_moved_corp"]


@pytest.mark.parametrize("round_", range(8))
async def test_every_acknowledged_write_survives_a_concurrent_rename(
    client: AsyncClient, store: Store, round_: int
) -> None:
    created = await created_org(client)
    token = await login(client)
    base = f"/api/v1/organizations/{created['id']}"

    async def write(n: int) -> int:
        response = await client.post(f"{base}/documents", json={"n": n}, headers=bearer(token))
        return n if response.status_code == 201 else -1

    results = await asyncio.gather(
        *(write(n) for n in range(20)),
        client.post(
            f"{base}/rename", json={"organization_name": f"Moved {round_}"}, headers=bearer(token)
        ),
    )

    acknowledged = {n for n in results[:-1] if isinstance(n, int) and n >= 0}
    organization = await store.master[ORGANIZATIONS].find_one({"_id": ObjectId(created["id"])})
    assert organization is not None
    assert await tenants(store).list_collection_names() == [organization["tenant_collection"]]
    stored = await tenants(store)[organization["tenant_collection"]].distinct("n")
    assert set(stored) == acknowledged
