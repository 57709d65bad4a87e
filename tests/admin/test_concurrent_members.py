"""Members added directly by operators share the plan's seats with everyone else, however
many requests race for the last ones (on a store that yields before each database call)."""

import asyncio

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from app.plans import Plan
from tests.conftest import borrowed
from tests.members.test_last_owner import interleaving
from tests.support import bearer, created_org, login

ORGS = "/api/v1/admin/organizations"


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store_opener=lambda _: interleaving(borrowed(store)))


async def test_racing_direct_adds_never_exceed_the_member_limit(
    client: AsyncClient, settings: Settings, writer: dict[str, str]
) -> None:
    org = await created_org(client)
    limit = settings.plans.member_limit(Plan.FREE)
    assert limit is not None
    emails = [f"rush{n}@example.com" for n in range(limit + 2)]
    for number, email in enumerate(emails):
        await created_org(client, f"Home {number}", email)

    answers = await asyncio.gather(
        *(
            client.post(f"{ORGS}/{org['id']}/members", json={"email": e}, headers=writer)
            for e in emails
        )
    )

    statuses = sorted(answer.status_code for answer in answers)
    # The owner holds one seat already.
    assert statuses == [201] * (limit - 1) + [409] * 3, [a.text for a in answers]
    owner = bearer(await login(client))
    listed = await client.get(
        f"/api/v1/organizations/{org['id']}/members", params={"limit": 100}, headers=owner
    )
    assert len(listed.json()["items"]) == limit
