"""Values BSON cannot hold, through the production driver: the in-memory store never encodes
a filter, so only here would a `where` of 2^63 fail in the driver rather than match nothing."""

import pytest
from httpx import AsyncClient

from tests.hostile import DOCUMENT_TARGETS, OTHER_TARGETS, Target, arena, sweep

pytestmark = pytest.mark.wire

METADATA = [target for target in OTHER_TARGETS if target.name.startswith("metadata")]


@pytest.mark.parametrize("target", DOCUMENT_TARGETS + METADATA, ids=lambda t: t.name)
async def test_values_mongodb_cannot_hold_never_reach_the_driver(
    wire_client: AsyncClient, target: Target
) -> None:
    await sweep(await arena(wire_client, wire=True), target)
