"""What the work the service does on its own costs, in database calls, as the registry grows.

The recovery sweep, the start-up and placement must cost what is under way, never what the
registry holds: each is counted here on a registry of a few organizations and on one of
many, and the counts must be equal (and small). Calls are counted as the service makes them
(`tests.crash.gated_store`), so the figures are exact and never depend on timing. One call
can still read the whole registry on the server, so the documents each call's filter selects
are counted too (`tests.queries` records the filters; that an index serves each one is
`tests/db/test_index_coverage.py`'s to check).
"""

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from httpx import AsyncClient

from app.config import Settings
from app.db.memory import open_memory_store
from app.db.schema import IDENTIFIER_CLAIMS, MASTER_INDEXES
from app.db.store import Store
from app.observability.metrics import Metrics
from app.organizations.lifecycle import no_checkpoint
from app.startup import MIGRATIONS, migrate_in_background, prepare_database, start_services
from tests.conftest import running
from tests.crash import gated_store
from tests.queries import Recorder, recording_store
from tests.support import create_org

SMALL, LARGE = 5, 200


class Calls:
    """Every database call made while counting, by collection and method (a tenant
    database's, whichever it is and whatever the collection, as `<tenant>.method`)."""

    def __init__(self) -> None:
        self.counting = False
        self.made: list[str] = []

    def before(self, call: str) -> None:
        if self.counting:
            master = call.startswith("master.")
            self.made.append(call if master else f"<tenant>.{call.rsplit('.', 1)[-1]}")

    def after(self, call: str) -> None:
        return None

    @asynccontextmanager
    async def counted(self, into: list[str]) -> AsyncIterator[None]:
        self.made, self.counting = [], True
        try:
            yield
        finally:
            self.counting = False
            into.extend(self.made)


@dataclass
class Costs:
    start_up: list[str] = field(default_factory=list)
    idle_sweep: list[str] = field(default_factory=list)
    busy_sweep: list[str] = field(default_factory=list)
    placement_count: list[str] = field(default_factory=list)
    background_migrations: list[str] = field(default_factory=list)
    create: list[str] = field(default_factory=list)
    # Documents selected by the filters of the start-up's and the idle sweep's calls.
    start_up_reads: int = 0
    idle_sweep_reads: int = 0

    def tally(self) -> dict[str, object]:
        return {
            name: Counter(calls) if isinstance(calls, list) else calls
            for name, calls in vars(self).items()
        }


async def selected(base: Store, recorder: Recorder) -> int:
    """How many documents the filters recorded since the last call select, as they stand."""
    total = 0
    for query in recorder.queries:
        assert query.database == base.master.name, f"a tenant collection read: {query}"
        if query.call != "$lookup":  # joins what the aggregation it belongs to selected
            total += await base.master[query.collection].count_documents(query.filter)
    recorder.queries.clear()
    return total


@pytest.fixture
def pooled(settings: Settings) -> Settings:
    return settings.model_copy(update={"tenant_db_count": 2})


async def sign_up(client: AsyncClient, number: int, prefix: str = "Org") -> None:
    response = await create_org(client, f"{prefix} {number}", f"owner{prefix}{number}@x.example")
    assert response.status_code == 201, response.text


async def costs_at(size: int, settings: Settings) -> Costs:
    """A registry of `size` organizations that a running service has swept, then what each
    piece of background work costs on it."""
    base = open_memory_store(settings)
    calls, recorder = Calls(), Recorder()
    store = gated_store(base, calls)
    recorded = recording_store(store, recorder)  # slower: only for the calls it checks
    async with running(settings, store) as client:
        for number in range(size):
            await sign_up(client, number)
    grace = timedelta(0)
    costs = Costs()
    earlier = await start_services(settings, store, Metrics(), no_checkpoint)
    await earlier.recovery.run(grace)  # as the running service's sweeps did: all settled
    earlier.hasher.close()
    for _ in range(2):  # the second run finds nothing left to change and marks it done
        await migrate_in_background(store)
    assert (
        await base.master[IDENTIFIER_CLAIMS].count_documents({"unsettled_since": {"$ne": False}})
        == 0
    ), "the sweep's index range still holds claims"

    async with calls.counted(costs.start_up):
        await prepare_database(recorded, settings)
        services = await start_services(settings, recorded, Metrics(), no_checkpoint)
    costs.start_up_reads = await selected(base, recorder)
    async with calls.counted(costs.idle_sweep):
        await services.recovery.run(grace)
    costs.idle_sweep_reads = await selected(base, recorder)
    async with calls.counted(costs.placement_count):
        await services.placement.refresh()
    async with calls.counted(costs.background_migrations):
        await migrate_in_background(store)
    async with running(settings, store) as client:
        await sign_up(client, 0, "Warm")  # the first placement count is in after it
        async with calls.counted(costs.create):
            await sign_up(client, 1, "Measured")
        await sign_up(client, 2, "Measured")
    async with calls.counted(costs.busy_sweep):
        # Three operations whose claims the sweep has not seen yet.
        await services.recovery.run(grace)
    services.hasher.close()
    return costs


async def test_background_work_costs_the_same_whatever_the_registrys_size(
    pooled: Settings,
) -> None:
    small, large = await costs_at(SMALL, pooled), await costs_at(LARGE, pooled)

    assert small.tally() == large.tally()
    # With nothing under way: the organizations in an operation, the unsettled claims.
    assert small.idle_sweep == [
        "master.organizations.find",
        "master.identifier_claims.aggregate",
    ]
    assert small.idle_sweep_reads == 0
    # The markers of the migrations requests rely on, each read by `_id`.
    assert small.start_up_reads == len(MIGRATIONS)
    # With claims to settle, one more call for all of them.
    assert len(small.busy_sweep) == 3
    # Reading and declaring each master collection's indexes, and a few more calls.
    assert len(small.start_up) <= 2 * len(MASTER_INDEXES) + 8
    assert small.background_migrations == ["master.migrations.find_one"]
    # "" (entries from before placement) and the two pool databases: one count each.
    assert small.placement_count == ["master.organizations.count_documents"] * 3


async def test_a_create_sends_no_query_over_the_registry(pooled: Settings) -> None:
    costs = await costs_at(SMALL, pooled)

    over_the_registry = [
        call
        for call in costs.create
        if call.startswith("master.organizations.")
        and call.rsplit(".", 1)[-1] in {"aggregate", "count_documents", "find", "distinct"}
    ]
    assert over_the_registry == []
