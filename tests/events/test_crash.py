"""No change without its event and no event without its change, whichever step a crash
interrupts: the restarted service settles every pending event by looking at whether its
change took effect."""

import pytest
from pymongo.errors import ConnectionFailure

from app.config import Settings
from app.db.schema import ORGANIZATIONS
from app.db.store import Store
from app.events.repository import EventRepository
from app.operations.placement import move_organization
from tests.conftest import running
from tests.crash import Crash, dying_store, gated_store
from tests.events.feed import all_events, event_types
from tests.support import NAME, bearer, create_org, created_org, delete, login, rename

NEW_NAME = "Tech Innovations Corp 2.0"


@pytest.fixture
def recovering(settings: Settings) -> Settings:
    return settings.model_copy(update={"recovery_grace_seconds": 0, "event_settle_seconds": 0})


async def stored_types(store: Store) -> list[str]:
    return [event.type for event in await EventRepository(store).latest(None, 100)]


@pytest.mark.parametrize(
    "step",
    ["create.claimed", "create.registered", "create.owner_added", "create.collection_created"],
)
async def test_a_create_that_died_has_no_event(
    recovering: Settings, store: Store, step: str
) -> None:
    crash = Crash(step)
    async with running(recovering, dying_store(store, crash), crash.checkpoint) as client:
        assert (await create_org(client)).status_code == 503
    async with running(recovering, store):
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        assert await stored_types(store) == []
        assert await EventRepository(store).pending_count() == 0


@pytest.mark.parametrize(
    "step",
    [
        "rename.claimed",
        "rename.recorded",
        "rename.moved",
        "rename.switched",
        "rename.source_dropped",
    ],
)
async def test_a_rename_that_died_has_its_event_exactly_when_it_took_effect(
    recovering: Settings, store: Store, step: str
) -> None:
    async with running(recovering, store) as client:
        await created_org(client)
        token = await login(client)
    crash = Crash(step)
    async with running(recovering, dying_store(store, crash), crash.checkpoint) as client:
        await rename(client, token, NEW_NAME)
    async with running(recovering, store) as client:
        organization = await store.master[ORGANIZATIONS].find_one({})
        assert organization is not None
        # Recovery rolls the rename back or finishes it, as far as it had gone.
        renamed = organization["name"] == NEW_NAME
        expected = ["organization.created", *(["organization.renamed"] if renamed else [])]
        assert await event_types(client, str(organization["_id"]), await login(client)) == (
            expected
        )
        assert await EventRepository(store).pending_count() == 0


@pytest.mark.parametrize(
    "step", ["delete.marked", "delete.collection_dropped", "delete.accounts_deleted"]
)
async def test_a_delete_that_died_is_finished_with_its_event(
    recovering: Settings, store: Store, step: str
) -> None:
    async with running(recovering, store) as client:
        await created_org(client)
        token = await login(client)
    crash = Crash(step)
    async with running(recovering, dying_store(store, crash), crash.checkpoint) as client:
        await delete(client, token, NAME)
    async with running(recovering, store):
        assert await store.master[ORGANIZATIONS].count_documents({}) == 0
        # A delete for good records both events, committed in either order.
        assert sorted(await stored_types(store)) == [
            "organization.created",
            "organization.deleted",
            "organization.purged",
        ]
        assert await EventRepository(store).pending_count() == 0


class EventsUnreachable:
    """Every call on the `events` collection fails: the change is made, its event cannot be
    committed, as when the process dies right after the change."""

    armed = False

    def before(self, call: str) -> None:
        if self.armed and call.startswith("master.events."):
            raise ConnectionError("events unreachable")

    def after(self, call: str) -> None:
        return None


async def test_a_change_whose_event_could_not_be_committed_gets_it_from_recovery(
    recovering: Settings, store: Store
) -> None:
    async with running(recovering, store) as client:
        org = await created_org(client)
        token = await login(client)
    path = f"/api/v1/organizations/{org['id']}"
    unreachable = EventsUnreachable()
    async with running(recovering, gated_store(store, unreachable)) as client:
        unreachable.armed = True
        response = await client.patch(path, json={"description": "a"}, headers=bearer(token))
        assert response.status_code == 200
    async with running(recovering, store) as client:
        events = await all_events(client, org["id"], token)
        assert [e["type"] for e in events] == [
            "organization.created",
            "organization.profile_updated",
        ]
        assert events[1]["data"]["profile"]["description"] == "a"


async def test_an_operators_move_is_an_event_by_the_operator(
    recovering: Settings, store: Store
) -> None:
    async with running(recovering, store) as client:
        org = await created_org(client)
        token = await login(client)
        await move_organization(store, recovering, org["id"], "tenantry_tenants_2")
        events = await all_events(client, org["id"], token)
    moved = events[-1]
    assert moved["type"] == "organization.moved"
    assert moved["actor"]["kind"] == "operator"
    assert moved["data"]["database"] == "tenantry_tenants_2"
    assert moved["data"]["previous_database"] == "tenantry_tenants"


@pytest.mark.parametrize("step", ["move.recorded", "move.copied", "move.switched"])
async def test_a_move_that_died_has_its_event_once_it_is_finished(
    recovering: Settings, store: Store, step: str
) -> None:
    async with running(recovering, store) as client:
        org = await created_org(client)
    crash = Crash(step)
    with pytest.raises(ConnectionFailure):
        await move_organization(
            dying_store(store, crash),
            recovering,
            org["id"],
            "tenantry_tenants_2",
            checkpoint=crash.checkpoint,
        )
    # The next start finishes or undoes the move, then settles its event.
    async with running(recovering, store) as client:
        organization = await store.master[ORGANIZATIONS].find_one({})
        assert organization is not None
        moved = organization["tenant_database"] == "tenantry_tenants_2"
        types = await event_types(client, org["id"], await login(client))
        assert types == ["organization.created", *(["organization.moved"] if moved else [])]
        assert await EventRepository(store).pending_count() == 0
