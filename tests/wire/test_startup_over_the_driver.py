"""A start costs the same database calls on a registry of a few organizations as on one of
more, over the driver: counted as the service makes them (`tests.crash.gated_store`), so the
figures are exact. The in-memory counterpart, with more sizes and more background work, is
`tests/organizations/test_background_costs.py`."""

import uuid
from collections import Counter
from datetime import timedelta

from app.config import Settings
from app.db.connect import open_store
from app.db.schema import IDENTIFIER_CLAIMS
from app.observability.metrics import Metrics
from app.organizations.lifecycle import no_checkpoint
from app.registry.claims import UNSETTLED
from app.startup import prepare_database, start_services
from tests.conftest import running
from tests.crash import gated_store
from tests.organizations.test_background_costs import Calls, sign_up
from tests.wire.conftest import drop_databases

SMALL, LARGE = 2, 12


async def start_up_calls(settings: Settings, size: int) -> Counter[str]:
    """A registry of `size` organizations whose claims an earlier version wrote (without the
    sweep's mark), swept once as a running service's sweeps would; then the calls of the
    next start."""
    suffix = uuid.uuid4().hex[:12]
    settings = settings.model_copy(
        update={"primary_db": f"tenantry_test_{suffix}", "tenant_db": f"tenantry_test_{suffix}_t"}
    )
    base = open_store(settings)
    try:
        calls = Calls()
        store = gated_store(base, calls)
        async with running(settings, store) as client:
            for number in range(size):
                await sign_up(client, number)
        await base.master[IDENTIFIER_CLAIMS].update_many({}, {"$unset": {UNSETTLED: ""}})
        earlier = await start_services(settings, store, Metrics(), no_checkpoint)
        await earlier.recovery.run(timedelta(0))
        earlier.hasher.close()

        made: list[str] = []
        async with calls.counted(made):
            await prepare_database(store, settings)
            services = await start_services(settings, store, Metrics(), no_checkpoint)
        services.hasher.close()
        return Counter(made)
    finally:
        await base.close()
        await drop_databases(settings)


async def test_a_start_costs_the_same_however_many_organizations_there_are(
    wire_settings: Settings,
) -> None:
    small = await start_up_calls(wire_settings, SMALL)
    large = await start_up_calls(wire_settings, LARGE)

    assert large == small
