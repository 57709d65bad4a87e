"""An organization always keeps at least one owner, even when its owners race each other.

After every scenario the registry's `owner_count` must equal the owner memberships: the
conditional update on that counter is what keeps the last owner in place.

The in-memory store answers without ever giving the event loop away, so concurrent requests
would only interleave between whole database-free stretches. The app here runs on a store that
yields before every database call, as a round trip to a server does, so races really race.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, cast

import pytest
from bson import ObjectId
from fastapi import FastAPI
from httpx import AsyncClient, Response
from pymongo.asynchronous.database import AsyncDatabase

from app.access.roles import Role
from app.config import Settings
from app.db.schema import MEMBERSHIPS, ORGANIZATIONS
from app.db.store import Client, Document, Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import EMAIL, NAME, PASSWORD, add_account, bearer, created_org, login

SECOND = "second-owner@techcorp.com"
ROUNDS = range(10)


class _RoundTrips:
    """A database, collection or cursor whose every awaitable call first lets other tasks run."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getitem__(self, name: str) -> "_RoundTrips":
        return _RoundTrips(self._target[name])

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            if not inspect.isawaitable(result):
                return result

            async def after_a_round_trip() -> Any:
                try:
                    await asyncio.sleep(0)
                except BaseException:  # cancelled (a background task at shutdown): never sent
                    if inspect.iscoroutine(result):
                        result.close()
                    raise
                return await result

            return after_a_round_trip()

        return call


class _RoundTripClient:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return cast(AsyncDatabase[Document], _RoundTrips(self._client.get_database(name)))

    async def list_database_names(self) -> list[str]:
        return await self._client.list_database_names()

    async def close(self) -> None:
        await self._client.close()


def interleaving(store: Store) -> Store:
    """`store` as the app sees it, with a scheduling point before every database call."""
    return replace(
        store,
        master=cast(AsyncDatabase[Document], _RoundTrips(store.master)),
        client=_RoundTripClient(store.client),
    )


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store_opener=lambda _: interleaving(borrowed(store)))


class Owner:
    """One owner's view of the organization: their token and account id."""

    def __init__(self, client: AsyncClient, org_id: str, token: str, account_id: str) -> None:
        self.client, self.org_id, self.token, self.account_id = client, org_id, token, account_id

    def _path(self, suffix: str) -> str:
        return f"/api/v1/organizations/{self.org_id}/members{suffix}"

    async def leave(self) -> Response:
        return await self.client.post(self._path("/leave"), headers=bearer(self.token))

    async def set_role(self, other: "Owner", role: Role) -> Response:
        return await self.client.patch(
            self._path(f"/{other.account_id}"),
            json={"role": role.value},
            headers=bearer(self.token),
        )

    async def demote(self, other: "Owner") -> Response:
        return await self.set_role(other, Role.ADMIN)

    async def remove(self, other: "Owner") -> Response:
        return await self.client.delete(
            self._path(f"/{other.account_id}"), headers=bearer(self.token)
        )


async def sole_owner(client: AsyncClient) -> Owner:
    org_id = (await created_org(client))["id"]
    response = await client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    return Owner(client, org_id, body["access_token"], body["admin_id"])


async def two_owners(client: AsyncClient, store: Store) -> tuple[Owner, Owner]:
    """The creator, and a member the creator promoted to owner over the API."""
    first = await sole_owner(client)
    second_id = str(await add_account(store, first.org_id, SECOND, Role.MEMBER))
    second = Owner(client, first.org_id, "", second_id)
    promoted = await first.set_role(second, Role.OWNER)
    assert promoted.status_code == 200, promoted.text
    second.token = await login(client, email=SECOND)
    assert await owners(store, first.org_id) == 2
    return first, second


async def owners(store: Store, org_id: str) -> int:
    """The owner memberships, checked against the registry's `owner_count`."""
    organization_id = ObjectId(org_id)
    counted = await store.master[MEMBERSHIPS].count_documents(
        {"organization_id": organization_id, "role": Role.OWNER.value}
    )
    organization = await store.master[ORGANIZATIONS].find_one({"_id": organization_id})
    assert organization is not None
    assert organization["owner_count"] == counted
    return counted


async def test_the_last_owner_cannot_leave(client: AsyncClient, store: Store) -> None:
    owner = await sole_owner(client)

    response = await owner.leave()

    assert response.status_code == 409
    assert "owner" in response.json()["detail"]
    assert await owners(store, owner.org_id) == 1
    assert (await client.get("/admin/me", headers=bearer(owner.token))).json()["role"] == "owner"


async def test_the_last_owner_cannot_be_demoted(client: AsyncClient, store: Store) -> None:
    owner = await sole_owner(client)

    response = await owner.demote(owner)

    assert response.status_code == 409
    assert await owners(store, owner.org_id) == 1
    assert (await client.get("/admin/me", headers=bearer(owner.token))).json()["role"] == "owner"


async def test_the_last_owner_cannot_be_removed(client: AsyncClient, store: Store) -> None:
    owner = await sole_owner(client)

    response = await owner.remove(owner)

    assert response.status_code == 409
    assert await owners(store, owner.org_id) == 1


async def test_one_of_two_owners_can_step_down(client: AsyncClient, store: Store) -> None:
    first, second = await two_owners(client, store)

    assert (await second.demote(second)).status_code == 200
    assert (await first.leave()).status_code == 409

    assert await owners(store, first.org_id) == 1


async def test_when_the_named_admin_leaves_another_owner_takes_the_name(
    client: AsyncClient, store: Store
) -> None:
    first, second = await two_owners(client, store)

    assert (await first.leave()).status_code == 200

    looked_up = await client.get("/org/get", params={"organization_name": NAME})
    assert looked_up.json()["admin_email"] == SECOND
    assert (await second.leave()).status_code == 409
    assert await owners(store, first.org_id) == 1


Race = Callable[[Owner, Owner], Awaitable[Response]]
RACES: dict[str, Race] = {
    "demote-each-other": lambda me, other: me.demote(other),
    "remove-each-other": lambda me, other: me.remove(other),
    "both-leave": lambda me, _: me.leave(),
    "both-demote-themselves": lambda me, _: me.demote(me),
}


@pytest.mark.parametrize("race", RACES)
@pytest.mark.parametrize("round_", ROUNDS)
async def test_two_owners_racing_to_step_down_leave_one_owner(
    client: AsyncClient, store: Store, race: str, round_: int
) -> None:
    first, second = await two_owners(client, store)
    step_down = RACES[race]

    answers = await asyncio.gather(step_down(first, second), step_down(second, first))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(200) == 1, [answer.text for answer in answers]
    # The loser is refused as the last owner, or finds its token retired by the winner.
    assert statuses[1] in (401, 409), [answer.text for answer in answers]
    assert await owners(store, first.org_id) == 1
