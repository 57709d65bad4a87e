"""MongoDB commands measured from the driver's own command monitoring."""

import pytest
from httpx import AsyncClient

from tests.observability.test_metrics import sample, scrape
from tests.support import NAME, created_org

pytestmark = pytest.mark.wire


async def test_database_commands_are_timed_by_name(wire_client: AsyncClient) -> None:
    await created_org(wire_client)
    await wire_client.get("/org/get", params={"organization_name": NAME})

    text = await scrape(wire_client)

    assert sample(text, "tenantry_mongodb_command_duration_seconds_count", command="find") >= 1
    assert sample(text, "tenantry_mongodb_command_duration_seconds_count", command="insert") >= 1
    assert 'command="' in text
