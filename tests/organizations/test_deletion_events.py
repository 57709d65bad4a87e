"""What deleting, restoring and purging record: `organization.deleted` (with until when it can
be restored), `organization.restored`, `organization.purged`, each by whoever did it."""

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from httpx import AsyncClient

from app.config import Settings
from app.db.store import Store
from app.events.repository import EventRepository
from tests.events.feed import all_events
from tests.organizations.test_soft_delete import (
    owned,
    purge,
    restore,
    soft_delete,
    sweep,
    token_for,
)
from tests.support import EMAIL, NAME, bearer


async def stored(store: Store, org_id: str) -> list[dict[str, Any]]:
    """The organization's events as the pull API shows them, read where they are kept (a
    deleted organization's tokens are refused)."""
    events = await EventRepository(store).latest(ObjectId(org_id), 100)
    return [event.public() for event in events]


async def test_a_soft_delete_says_until_when_it_can_be_restored(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    deleted = await soft_delete(client, org_id, token)
    assert deleted.status_code == 200, deleted.text

    event = (await stored(store, org_id))[-1]

    assert event["type"] == "organization.deleted"
    assert event["data"]["id"] == org_id
    assert event["data"]["organization_name"] == NAME
    restorable = datetime.fromisoformat(event["data"]["restorable_until"])
    assert abs(restorable - datetime.fromisoformat(deleted.json()["purge_after"])) < timedelta(
        milliseconds=1
    )
    assert (event["actor"]["kind"], event["actor"]["email"]) == ("account", EMAIL)


async def test_a_restore_is_an_event_by_the_owner_who_restored(client: AsyncClient) -> None:
    org_id, token = await owned(client)
    assert (await soft_delete(client, org_id, token)).status_code == 200
    assert (await restore(client, org_id)).status_code == 200

    events = await all_events(client, org_id, await token_for(client, org_id))

    assert [e["type"] for e in events][-2:] == ["organization.deleted", "organization.restored"]
    assert events[-1]["data"]["tenant_collection"] == "tenant_tech_innovations_corp"
    assert (events[-1]["actor"]["kind"], events[-1]["actor"]["email"]) == ("account", EMAIL)


async def test_a_purge_at_once_is_a_delete_with_no_restore_then_a_purge(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    assert (await purge(client, org_id, token)).status_code == 200

    events = await stored(store, org_id)

    by_type = {event["type"]: event for event in events}
    assert sorted(by_type) == [
        "organization.created",
        "organization.deleted",
        "organization.purged",
    ]
    assert by_type["organization.deleted"]["data"]["restorable_until"] is None
    assert by_type["organization.purged"]["data"]["deleted_at"] is None
    assert by_type["organization.deleted"]["sequence"] < by_type["organization.purged"]["sequence"]
    assert by_type["organization.purged"]["actor"]["email"] == EMAIL


async def test_the_contract_delete_records_the_delete_and_the_purge(
    client: AsyncClient, store: Store
) -> None:
    org_id, token = await owned(client)
    deleted = await client.request(
        "DELETE", "/org/delete", json={"organization_name": NAME}, headers=bearer(token)
    )
    assert deleted.status_code == 200, deleted.text

    types = sorted(event["type"] for event in await stored(store, org_id))

    assert types == ["organization.created", "organization.deleted", "organization.purged"]


async def test_the_sweep_purges_as_the_system_once_the_period_ends(
    client: AsyncClient, store: Store, settings: Settings
) -> None:
    org_id, token = await owned(client)
    deleted = (await soft_delete(client, org_id, token)).json()
    purge_after = datetime.fromisoformat(deleted["purge_after"])
    assert await sweep(store, settings, purge_after + timedelta(seconds=1)).run()

    purged = (await stored(store, org_id))[-1]

    assert purged["type"] == "organization.purged"
    assert purged["actor"] == {"kind": "system", "id": None, "email": None}
    assert datetime.fromisoformat(purged["data"]["deleted_at"]) <= purge_after
    again = await sweep(store, settings, purge_after + timedelta(seconds=2)).run()
    assert again == []
    assert [e["type"] for e in await stored(store, org_id)].count("organization.purged") == 1
