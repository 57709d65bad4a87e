"""No change without its event and no event without its change, with each database call of
each multi-step flow failing in turn (the flows of `tests/flows`): once pending events are
settled, a flow that took effect has exactly its event, one that did not has none."""

from datetime import timedelta

import pytest

from app.config import Settings
from app.events.repository import EventRepository
from app.operations.outbox import build_outbox
from tests.crash import FailOnce
from tests.flows.test_one_failed_call import FLOWS, Flow, snapshot, succeeded, world_for

EXPECTED: dict[str, str | tuple[str, ...]] = {
    "create": "organization.created",
    "create through the platform API": "organization.created",
    "rename": "organization.renamed",
    "move": "organization.moved",
    # A delete for good at once records both, committed in either order.
    "delete": ("organization.deleted", "organization.purged"),
    "soft delete": "organization.deleted",
    "restore": "organization.restored",
    "purge when due": "organization.purged",
    "accept as a new account": "invitation.accepted",
    "transfer ownership": "member.ownership_transferred",
    "remove a member": "member.removed",
    "demote an owner": "member.role_changed",
    "delete a workspace": "workspace.deleted",
    "change plan": "organization.plan_changed",
    "create an API key": "api_key.created",
    "revoke an API key": "api_key.revoked",
}


@pytest.mark.parametrize(
    "flow", [flow for flow in FLOWS if flow.name in EXPECTED], ids=lambda flow: flow.name
)
async def test_each_failed_call_leaves_an_event_exactly_when_the_change_took_effect(
    settings: Settings, flow: Flow
) -> None:
    settings = settings.model_copy(update={"tenant_copy_batch_size": 2})
    gate = FailOnce()
    for k in range(1, 200):
        async with world_for(settings, gate) as world:
            await flow.prepare(world)
            events = EventRepository(world.store)
            before = len(await events.latest(None, 1000))
            state_before = await snapshot(world.store)
            gate.arm(k)
            outcome = await flow.request(world)
            gate.disarm()
            await build_outbox(settings, world.store).settle_stale(timedelta(0))
            new = [e.type for e in (await events.latest(None, 1000))[before:]]
            where = f"{flow.name}, call {k} ({gate.failed}) failed"
            assert await events.pending_count() == 0, where
            if succeeded(outcome):
                expected = EXPECTED[flow.name]
                wanted = [expected] if isinstance(expected, str) else list(expected)
                assert sorted(new) == sorted(wanted), where
                assert len(new) == len(set(new)), where
            else:
                assert await snapshot(world.store) == state_before, where
                assert new == [], where
            if gate.failed is None:
                return
    raise AssertionError(f"{flow.name} makes more database calls than the test tries")
