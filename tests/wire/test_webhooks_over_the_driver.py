"""Two service instances on one database, each with its delivery worker: every event reaches
the receiver, and none twice."""

import asyncio
from collections import Counter

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.support import bearer, created_org, login
from tests.webhooks.receiver import receiving
from tests.wire.conftest import Server

pytestmark = pytest.mark.wire
CHANGES = 8


async def test_two_instances_deliver_each_event_once(
    server: Server, wire_settings: Settings, wire_store: Store
) -> None:
    if server.kind == "nx-27017":
        pytest.skip(
            "nx-27017: equality on a non-_id ObjectId field never matches (an organization's "
            "endpoints and events are found by organization_id)"
        )
    settings = wire_settings.model_copy(
        update={
            "environment": "development",
            "webhook_allow_private_targets": True,
            "webhook_worker": True,
            "webhook_poll_seconds": 0.2,
            "recovery_interval_seconds": 0,
        }
    )
    one, other = create_app(settings), create_app(settings)
    async with (
        receiving() as receiver,
        LifespanManager(one) as first,
        LifespanManager(other) as second,
        AsyncClient(transport=ASGITransport(app=first.app), base_url="http://a") as a,
        AsyncClient(transport=ASGITransport(app=second.app), base_url="http://b") as b,
    ):
        org = await created_org(a)
        token = await login(a)
        path = f"/api/v1/organizations/{org['id']}"
        created = await a.post(
            f"{path}/webhooks", json={"url": receiver.url("/slow")}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        for n in range(CHANGES):
            client = a if n % 2 else b
            changed = await client.patch(path, json={"description": f"v{n}"}, headers=bearer(token))
            assert changed.status_code == 200
        for _ in range(200):
            if len(receiver.received) >= CHANGES:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # time for a duplicate, were there one
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(ids) == CHANGES
    assert set(ids.values()) == {1}
