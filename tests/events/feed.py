"""Reading an organization's events the way a client of the pull API does."""

from typing import Any

from httpx import AsyncClient

from tests.support import bearer


async def all_events(
    client: AsyncClient, org_id: str, token: str, *, limit: int = 100, **params: Any
) -> list[dict[str, Any]]:
    """Every event ready now, following `next_cursor` page by page."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query: dict[str, Any] = {"limit": limit, **params}
        if after:
            query["after"] = after
        response = await client.get(
            f"/api/v1/organizations/{org_id}/events", params=query, headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["events"])
        after = body["next_cursor"]
        if not body["has_more"]:
            return found


async def event_types(client: AsyncClient, org_id: str, token: str) -> list[str]:
    return [event["type"] for event in await all_events(client, org_id, token)]
