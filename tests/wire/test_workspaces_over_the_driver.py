"""The default workspace through the real driver: found or made once, whoever asks at once."""

import asyncio

import pytest
from httpx import AsyncClient

from app.db.schema import WORKSPACES
from app.db.store import Store
from tests.support import bearer, created_org, login
from tests.wire.conftest import Server

pytestmark = pytest.mark.wire


async def test_concurrent_and_repeated_readers_share_one_default(
    server: Server, wire_client: AsyncClient, wire_store: Store
) -> None:
    if server.kind == "nx-27017":
        pytest.skip(
            "nx-27017 mis-matches ObjectId equality on non-_id fields "
            "(the default workspace is found by organization_id)"
        )
    org = (await created_org(wire_client))["id"]
    owner = bearer(await login(wire_client))
    path = f"/api/v1/organizations/{org}/workspaces"
    await wire_store.master[WORKSPACES].delete_many({})  # as for an organization from before

    answers = await asyncio.gather(*(wire_client.get(path, headers=owner) for _ in range(4)))
    again = await wire_client.get(path, headers=owner)

    assert [answer.status_code for answer in (*answers, again)] == [200] * 5
    stored = await wire_store.master[WORKSPACES].find({}).to_list()
    assert [(w["name"], w["is_default"]) for w in stored] == [("Default", True)]
