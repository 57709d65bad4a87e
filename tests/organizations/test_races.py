"""Concurrent requests that compete for one organization or one name end consistent.

Each race runs many rounds: the interleavings differ from round to round.
"""

import asyncio

import pytest
from httpx import AsyncClient

from app.db.schema import ORGANIZATIONS, THROTTLE_ATTEMPTS
from app.db.store import Store
from tests.support import (
    EMAIL,
    NAME,
    PASSWORD,
    assert_consistent,
    create_org,
    created_org,
    delete,
    login,
    rename,
    tenants,
)

ROUNDS = range(12)


@pytest.mark.parametrize("round_", ROUNDS)
async def test_rename_racing_delete(client: AsyncClient, store: Store, round_: int) -> None:
    created = await created_org(client)
    await tenants(store)[created["tenant_collection"]].insert_many([{"n": i} for i in range(30)])
    token = await login(client)

    renamed, deleted = await asyncio.gather(
        rename(client, token, f"Renamed {round_}"), delete(client, token)
    )

    assert renamed.status_code in {200, 401, 404, 409}
    assert deleted.status_code in {200, 404, 409}
    await assert_consistent(store)
    if deleted.status_code == 200:
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert await tenants(store).list_collection_names() == []
    else:
        organization = await store.master[ORGANIZATIONS].find_one({})
        assert organization is not None
        assert await tenants(store)[organization["tenant_collection"]].count_documents({}) == 30


@pytest.mark.parametrize("round_", ROUNDS)
async def test_create_racing_a_rename_onto_the_same_name(
    client: AsyncClient, store: Store, round_: int
) -> None:
    await created_org(client)
    token = await login(client)
    target = f"Contested {round_}"

    created, renamed = await asyncio.gather(
        create_org(client, name=target, email="rival@example.com"), rename(client, token, target)
    )

    assert sorted([created.status_code, renamed.status_code]) in ([201, 409], [200, 409])
    await assert_consistent(store)
    holders = await store.master[ORGANIZATIONS].count_documents({"name": target})
    assert holders == 1


@pytest.mark.parametrize("round_", ROUNDS)
async def test_simultaneous_renames_to_one_name_from_two_organizations(
    client: AsyncClient, store: Store, round_: int
) -> None:
    await created_org(client)
    await created_org(client, name="Second Org", email="second@example.com")
    first, second = await login(client), await login(client, email="second@example.com")

    results = await asyncio.gather(
        rename(client, first, "Shared Name"),
        rename(client, second, "Shared Name", email="second@example.com"),
    )

    assert sorted(r.status_code for r in results) == [200, 409]
    await assert_consistent(store)


async def test_many_logins_at_once(client: AsyncClient) -> None:
    await created_org(client)

    responses = await asyncio.gather(
        *(
            client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
            for _ in range(40)
        )
    )

    assert [r.status_code for r in responses] == [200] * 40
    assert len({r.json()["access_token"] for r in responses}) == 40


async def test_simultaneous_failures_are_all_counted(client: AsyncClient, store: Store) -> None:
    await created_org(client)

    responses = await asyncio.gather(
        *(
            client.post("/admin/login", json={"email": EMAIL, "password": "Wrong123"})
            for _ in range(4)
        )
    )

    assert {r.status_code for r in responses} == {401}
    keys = await store.master[THROTTLE_ATTEMPTS].find({}).to_list()
    assert sorted(len(key["attempts"]) for key in keys) == [4, 4]
    assert (await client.get("/org/get", params={"organization_name": NAME})).status_code == 200
