"""Leases belong to the holding that took them and expire on the server's clock: a holder
that outlived its lease neither frees its successor's nor acts as if it still held it."""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from app.db.schema import ORGANIZATIONS, WRITE_LEASES
from app.db.store import Store
from app.registry.errors import OrganizationBusy
from app.registry.repository import OrganizationRepository
from app.registry.write_leases import TenantBusy, WriteLeases

PURPOSE = "invitations"


async def an_organization(store: Store) -> ObjectId:
    organization_id = ObjectId()
    await store.master[ORGANIZATIONS].insert_one({"_id": organization_id})
    return organization_id


async def expire_hold(store: Store, organization_id: ObjectId) -> None:
    """What a slow write, a paused process or an election does to the holder: time passes."""
    await store.master[ORGANIZATIONS].update_one(
        {"_id": organization_id},
        {"$set": {f"holds.{PURPOSE}.expires_at": datetime.now(UTC) - timedelta(seconds=1)}},
    )


async def test_a_late_release_leaves_the_next_holders_lease_in_place(store: Store) -> None:
    organizations = OrganizationRepository(store)
    organization_id = await an_organization(store)
    first = organizations.holding(organization_id, PURPOSE)
    a = await first.__aenter__()
    await expire_hold(store, organization_id)
    second = organizations.holding(organization_id, PURPOSE, wait_seconds=0.1)
    b = await second.__aenter__()

    await first.__aexit__(None, None, None)

    with pytest.raises(OrganizationBusy):
        async with organizations.holding(organization_id, PURPOSE, wait_seconds=0.05):
            pytest.fail("a third holder got in beside the second")
    with pytest.raises(OrganizationBusy):
        await a.confirm()
    await b.confirm()
    await second.__aexit__(None, None, None)
    async with organizations.holding(organization_id, PURPOSE, wait_seconds=0.05):
        pass


async def test_a_live_lease_keeps_others_out_until_it_is_released(store: Store) -> None:
    organizations = OrganizationRepository(store)
    organization_id = await an_organization(store)

    async with organizations.holding(organization_id, PURPOSE) as held:
        with pytest.raises(OrganizationBusy):
            async with organizations.holding(organization_id, PURPOSE, wait_seconds=0.05):
                pytest.fail("two holders at once")
        await held.confirm()
        entry = await store.master[ORGANIZATIONS].find_one({"_id": organization_id})
        assert entry is not None
        assert entry["holds"][PURPOSE]["token"] == held.token
        assert entry["holds"][PURPOSE]["expires_at"] > datetime.now(UTC)

    entry = await store.master[ORGANIZATIONS].find_one({"_id": organization_id})
    assert entry is not None
    assert not entry.get("holds", {}).get(PURPOSE)


async def test_a_lease_of_the_old_shape_does_not_block_forever(store: Store) -> None:
    organizations = OrganizationRepository(store)
    organization_id = ObjectId()
    await store.master[ORGANIZATIONS].insert_one(
        {"_id": organization_id, "holds": {PURPOSE: datetime.now(UTC) - timedelta(seconds=5)}}
    )

    async with organizations.holding(organization_id, PURPOSE, wait_seconds=0.05):
        pass


async def test_releasing_a_write_lease_frees_only_that_one(store: Store) -> None:
    leases = WriteLeases(store)
    organization_id = ObjectId()
    first, second = await leases.acquire(organization_id), await leases.acquire(organization_id)

    await leases.release(first)
    await leases.release(first)  # released again after a lost answer: still only that one

    assert [lease["_id"] for lease in await store.master[WRITE_LEASES].find({}).to_list()] == [
        second
    ]
    with pytest.raises(TenantBusy):
        await leases.wait_until_drained(organization_id, 0.05)
    await leases.release(second)
    await leases.wait_until_drained(organization_id, 0.05)


async def test_an_expired_write_lease_does_not_hold_a_rename_back(store: Store) -> None:
    leases = WriteLeases(store)
    organization_id = ObjectId()
    lease = await leases.acquire(organization_id)
    stored = await store.master[WRITE_LEASES].find_one({"_id": lease})
    assert stored is not None
    assert stored["taken_at"] > datetime.now(UTC) - timedelta(seconds=5)

    await store.master[WRITE_LEASES].update_one(
        {"_id": lease}, {"$set": {"taken_at": datetime.now(UTC) - timedelta(seconds=31)}}
    )

    await leases.wait_until_drained(organization_id, 0.05)
