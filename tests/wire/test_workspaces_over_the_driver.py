"""The default workspace through the real driver: found or made once, whoever asks at once,
by its organization's id."""

import asyncio

import pytest
from bson import ObjectId
from httpx import AsyncClient

from app.db.schema import WORKSPACES
from app.db.store import Store
from tests.support import bearer, created_org, login
from tests.wire.conftest import Server

pytestmark = pytest.mark.wire


async def test_concurrent_and_repeated_readers_share_one_default(
    server: Server, wire_client: AsyncClient, wire_store: Store
) -> None:
    org = (await created_org(wire_client))["id"]
    owner = bearer(await login(wire_client))
    path = f"/api/v1/organizations/{org}/workspaces"
    await wire_store.master[WORKSPACES].delete_many({})  # as for an organization from before

    answers = await asyncio.gather(*(wire_client.get(path, headers=owner) for _ in range(4)))
    again = await wire_client.get(path, headers=owner)

    assert [answer.status_code for answer in (*answers, again)] == [200] * 5
    stored = await wire_store.master[WORKSPACES].find({}).to_list()
    assert [(w["name"], w["is_default"]) for w in stored] == [("Default", True)]


async def test_every_document_write_finds_the_same_default(
    wire_client: AsyncClient, wire_store: Store
) -> None:
    org = (await created_org(wire_client))["id"]
    owner = bearer(await login(wire_client))
    path = f"/api/v1/organizations/{org}/documents"

    written = [await wire_client.post(path, json={"n": n}, headers=owner) for n in range(3)]

    assert [answer.status_code for answer in written] == [201] * 3
    stored = await wire_store.master[WORKSPACES].find({}).to_list()
    assert [(w["_id"], w["is_default"]) for w in stored] == [(ObjectId(org), True)]
