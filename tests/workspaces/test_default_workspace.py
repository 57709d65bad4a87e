"""The default workspace is found or made by whoever needs it first, however many at once,
even when another workspace already has its name.

The app runs on a store that yields before each database call (see
`tests/members/test_last_owner`), so concurrent requests interleave as against a server.
"""

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.config import Settings
from app.db.schema import WORKSPACE_MEMBERS, WORKSPACES
from app.db.store import Document, Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.members.test_last_owner import interleaving
from tests.support import bearer, created_org, login

READERS = 6


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store_opener=lambda _: interleaving(borrowed(store)))


async def lose_the_default(store: Store) -> None:
    """As for an organization whose default workspace went missing (or predates them)."""
    default = await store.master[WORKSPACES].find_one({"is_default": True})
    assert default is not None
    await store.master[WORKSPACE_MEMBERS].delete_many({"workspace_id": default["_id"]})
    await store.master[WORKSPACES].delete_one({"_id": default["_id"]})


async def defaults(store: Store) -> list[Document]:
    return await store.master[WORKSPACES].find({"is_default": True}).to_list()


async def read_concurrently(client: AsyncClient, org_id: str, token: str) -> list[Response]:
    path = f"/api/v1/organizations/{org_id}/workspaces"
    return list(
        await asyncio.gather(*(client.get(path, headers=bearer(token)) for _ in range(READERS)))
    )


async def test_concurrent_first_readers_make_one_default(client: AsyncClient, store: Store) -> None:
    org = (await created_org(client))["id"]
    owner = await login(client)
    await lose_the_default(store)

    answers = await read_concurrently(client, org, owner)

    assert [answer.status_code for answer in answers] == [200] * READERS
    [default] = await defaults(store)
    assert default["name"] == "Default"
    assert {w["id"] for a in answers for w in a.json()["items"]} == {str(default["_id"])}


async def test_a_workspace_named_like_the_default_does_not_stop_it(
    client: AsyncClient, store: Store
) -> None:
    org = (await created_org(client))["id"]
    owner = await login(client)
    base = f"/api/v1/organizations/{org}/workspaces"
    [first] = (await client.get(base, headers=bearer(owner))).json()["items"]
    await client.patch(f"{base}/{first['id']}", json={"name": "Main"}, headers=bearer(owner))
    sales = (await client.post(base, json={"name": "Sales"}, headers=bearer(owner))).json()
    renamed = await client.patch(
        f"{base}/{sales['id']}", json={"name": "Default"}, headers=bearer(owner)
    )
    assert renamed.status_code == 200, renamed.text
    await lose_the_default(store)

    answers = await read_concurrently(client, org, owner)

    assert [answer.status_code for answer in answers] == [200] * READERS
    [default] = await defaults(store)
    assert default["name"] == "Default 2"
    listed = {(w["name"], w["is_default"]) for w in answers[-1].json()["items"]}
    assert listed == {("Default", False), ("Default 2", True)}
