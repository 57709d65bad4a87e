"""The webhook endpoints of a deleted organization: sent its `organization.deleted` and
`organization.purged` events and nothing else while it is deleted, back with a restore, and
removed for good, with their deliveries and attempts, once a purge's last deliveries are made."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import ConnectionFailure

from app.audit.trail import AuditTrail
from app.db.schema import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES, WEBHOOK_ENDPOINTS
from app.operations.outbox import build_outbox
from app.organizations.lifecycle import Lifecycle
from app.organizations.retention import PurgeSweep
from app.registry.repository import OrganizationRepository
from tests.crash import Crash, dying_store
from tests.support import EMAIL, NAME, PASSWORD
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver


def sent(receiver: Receiver, path: str = "/ok") -> list[dict[str, Any]]:
    return [json.loads(received.body) for received in receiver.at(path)]


async def soft_delete(hooks: Hooks) -> None:
    deleted = await hooks.client.delete(f"/api/v1/organizations/{hooks.org_id}", headers=hooks.auth)
    assert deleted.status_code == 200, deleted.text


async def purge_when_due(hooks: Hooks) -> None:
    store, settings = hooks.store, hooks.settings
    later = datetime.now(UTC) + timedelta(days=settings.deleted_retention_days + 1)
    sweep = PurgeSweep(
        Lifecycle.configured(store, settings),
        OrganizationRepository(store),
        AuditTrail(store),
        build_outbox(settings, store),
        clock=lambda: later,
    )
    assert await sweep.run() == [ObjectId(hooks.org_id)]


async def left_of(hooks: Hooks, endpoint_id: str) -> tuple[int, int, int]:
    master, endpoint = hooks.store.master, ObjectId(endpoint_id)
    return (
        await master[WEBHOOK_ENDPOINTS].count_documents({"_id": endpoint}),
        await master[WEBHOOK_DELIVERIES].count_documents({"endpoint_id": endpoint}),
        await master[WEBHOOK_ATTEMPTS].count_documents({"endpoint_id": endpoint}),
    )


async def test_while_deleted_only_the_delete_is_sent_and_a_restore_sends_the_rest(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.endpoint(receiver.url("/ok"), types=["*"])
    await hooks.change()  # committed before the delete; its delivery is queued
    await soft_delete(hooks)
    worker = hooks.worker()
    await worker.round()
    await worker.round()

    [deleted] = sent(receiver)
    assert deleted["type"] == "organization.deleted"
    assert deleted["data"]["restorable_until"] is not None
    assert deleted["actor"]["email"] == EMAIL

    restored = await hooks.client.post(
        f"/api/v1/organizations/{hooks.org_id}/restore",
        json={"email": EMAIL, "password": PASSWORD},
    )
    assert restored.status_code == 200, restored.text
    await worker.round()
    await worker.round()

    after = sorted(message["type"] for message in sent(receiver)[1:])
    assert after == ["organization.profile_updated", "organization.restored"]


async def test_a_purge_is_sent_and_then_the_endpoint_goes_with_its_deliveries_and_attempts(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"), types=["organization.*"])
    await hooks.change()
    worker = hooks.worker()
    await worker.round()
    await soft_delete(hooks)
    await worker.round()
    assert await left_of(hooks, endpoint["id"]) == (1, 2, 2)

    await purge_when_due(hooks)
    await worker.round()

    messages = sent(receiver)
    assert [m["type"] for m in messages] == [
        "organization.profile_updated",
        "organization.deleted",
        "organization.purged",
    ]
    assert messages[-1]["actor"] == {"kind": "system", "id": None, "email": None}
    await worker.round()
    assert await left_of(hooks, endpoint["id"]) == (0, 0, 0)


async def test_a_delete_for_good_sends_both_events_then_removes_the_endpoint(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"), types=["*"])
    deleted = await hooks.client.request(
        "DELETE", "/org/delete", json={"organization_name": NAME}, headers=hooks.auth
    )
    assert deleted.status_code == 200, deleted.text
    worker = hooks.worker()
    await worker.round()

    messages = sent(receiver)
    assert sorted(m["type"] for m in messages) == ["organization.deleted", "organization.purged"]
    [gone] = [m for m in messages if m["type"] == "organization.deleted"]
    assert gone["data"]["restorable_until"] is None
    await worker.round()
    assert await left_of(hooks, endpoint["id"]) == (0, 0, 0)


async def test_a_purged_endpoint_that_fails_is_kept_until_its_last_delivery_is_given_up(
    hooks: Hooks, receiver: Receiver
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/always-500"), types=["organization.*"])
    deleted = await hooks.client.request(
        "DELETE", "/org/delete", json={"organization_name": NAME}, headers=hooks.auth
    )
    assert deleted.status_code == 200, deleted.text
    worker = hooks.worker()
    await worker.round()
    await worker.round()
    assert (await left_of(hooks, endpoint["id"]))[0] == 1

    for _ in range(12):  # past the whole retry schedule
        hooks.clock.advance(timedelta(hours=12))
        await worker.round()

    assert len(receiver.at("/always-500")) == 2 * 9
    assert await left_of(hooks, endpoint["id"]) == (0, 0, 0)


@pytest.mark.parametrize(
    "step", ["delete.marked", "delete.collection_dropped", "delete.accounts_deleted"]
)
async def test_a_delete_that_died_leaves_nothing_to_send_to_its_endpoints(
    hooks: Hooks, receiver: Receiver, step: str
) -> None:
    endpoint = await hooks.endpoint(receiver.url("/ok"), types=["*"])
    await hooks.change()
    worker = hooks.worker()
    await worker.fan_out()  # the change's delivery is queued, not yet attempted
    organization = await OrganizationRepository(hooks.store).get(ObjectId(hooks.org_id))
    assert organization is not None
    crash = Crash(step)
    dying = Lifecycle.configured(dying_store(hooks.store, crash), hooks.settings, crash.checkpoint)
    with pytest.raises(ConnectionFailure):
        await dying.delete(organization)

    await hooks.services.recovery.run(timedelta(0))
    await worker.round()
    await worker.round()

    assert receiver.received == []
    assert await left_of(hooks, endpoint["id"]) == (0, 0, 0)
