"""Failed logins are throttled per account and per address, in MongoDB, never for good."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient, Response
from starlette.types import ASGIApp

from app.access.passwords import PasswordHasher
from app.api.deps import get_services
from app.api.state import Services, build_services, throttle_policy
from app.config import Settings
from app.db.schema import THROTTLE_ATTEMPTS
from app.db.store import Store
from app.factory import create_app
from app.organizations.lifecycle import no_checkpoint
from app.sessions.throttle import LoginThrottle
from tests.conftest import borrowed
from tests.support import EMAIL, PASSWORD, created_org, rename

HOME = "198.51.100.7"
ATTACKER = "203.0.113.66"


class Clock:
    """Five seconds into the next 15-minute window (the default LOGIN_WINDOW_SECONDS): the
    counters' TTL index deletes windows that ended in real time, so the clock must not lag."""

    def __init__(self) -> None:
        now = int(datetime.now(UTC).timestamp())
        self.now = datetime.fromtimestamp(now - now % 900 + 900 + 5, UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def throttled(settings: Settings, store: Store, clock: Clock) -> FastAPI:
    """An app whose login throttle reads the test's clock."""
    app = create_app(settings, store_opener=lambda _: borrowed(store))

    built: list[Services] = []

    async def services_on_test_clock(request: Request) -> Services:
        if not built:
            real: Services = request.state.services
            built.append(
                build_services(
                    real.settings,
                    real.store,
                    metrics=real.metrics,
                    hasher=PasswordHasher(real.settings.bcrypt_rounds, 2),
                    capacity=real.capacity,
                    checkpoint=no_checkpoint,
                    throttle=LoginThrottle(real.store, throttle_policy(real.settings), clock),
                )
            )
        return built[0]

    app.dependency_overrides[get_services] = services_on_test_clock
    return app


@pytest.fixture
async def started(settings: Settings, store: Store, clock: Clock) -> AsyncIterator[ASGIApp]:
    async with LifespanManager(throttled(settings, store, clock)) as manager:
        yield manager.app


def from_address(app: ASGIApp, address: str) -> AsyncClient:
    return AsyncClient(
        transport=ASGITransport(app=app, client=(address, 4321)), base_url="http://t"
    )


async def attempt(
    client: AsyncClient, email: str = EMAIL, password: str = "WrongPassword"
) -> Response:
    return await client.post("/admin/login", json={"email": email, "password": password})


async def test_an_account_is_throttled_after_its_failures(
    started: ASGIApp, settings: Settings
) -> None:
    async with from_address(started, ATTACKER) as client:
        await created_org(client)
        for _ in range(settings.login_max_failures_per_account):
            assert (await attempt(client)).status_code == 401

        blocked = await attempt(client, password=PASSWORD)

    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= settings.login_window_seconds
    assert blocked.json() == {"detail": "Too many failed attempts; try again later"}


async def test_unknown_emails_are_throttled_alike(started: ASGIApp, settings: Settings) -> None:
    async with from_address(started, ATTACKER) as client:
        for _ in range(settings.login_max_failures_per_account):
            assert (await attempt(client, email="ghost@example.com")).status_code == 401

        assert (await attempt(client, email="ghost@example.com")).status_code == 429


async def test_the_throttle_lifts_when_the_window_ends(
    started: ASGIApp, settings: Settings, clock: Clock
) -> None:
    async with from_address(started, ATTACKER) as client:
        await created_org(client)
        for _ in range(settings.login_max_failures_per_account):
            await attempt(client)
        assert (await attempt(client, password=PASSWORD)).status_code == 429

        clock.now += timedelta(seconds=settings.login_window_seconds)

        assert (await attempt(client, password=PASSWORD)).status_code == 200


async def test_an_attacker_cannot_lock_the_owner_out_of_their_usual_address(
    started: ASGIApp, settings: Settings
) -> None:
    async with from_address(started, HOME) as home, from_address(started, ATTACKER) as attacker:
        await created_org(home)
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        for _ in range(settings.login_max_failures_per_account):
            await attempt(attacker)

        assert (await attempt(attacker, password=PASSWORD)).status_code == 429
        assert (await attempt(home, password=PASSWORD)).status_code == 200


async def test_an_address_is_throttled_across_accounts(
    started: ASGIApp, settings: Settings
) -> None:
    async with from_address(started, ATTACKER) as attacker, from_address(started, HOME) as home:
        for i in range(settings.login_max_failures_per_address):
            await attempt(attacker, email=f"victim{i}@example.com")

        assert (await attempt(attacker, email="fresh@example.com")).status_code == 429
        assert (await attempt(home, email="fresh@example.com")).status_code == 401


async def test_a_stolen_token_is_no_way_around_the_throttle(
    started: ASGIApp, settings: Settings
) -> None:
    async with from_address(started, HOME) as home, from_address(started, ATTACKER) as thief:
        await created_org(home)
        token = (await attempt(home, password=PASSWORD)).json()["access_token"]
        for _ in range(settings.login_max_failures_per_account):
            assert (await rename(thief, token, "Stolen", password="Guess1234")).status_code == 401

        assert (await rename(thief, token, "Stolen", password=PASSWORD)).status_code == 429


async def test_attempts_live_in_mongodb_with_an_expiry(
    started: ASGIApp, store: Store, settings: Settings, clock: Clock
) -> None:
    async with from_address(started, ATTACKER) as client:
        await attempt(client, email="someone@example.com")

    keys = await store.master[THROTTLE_ATTEMPTS].find({}).to_list()
    assert len(keys) == 2  # the address and the account
    assert all(len(key["attempts"]) == 1 for key in keys)
    window = timedelta(seconds=settings.login_window_seconds)
    assert all(key["expires_at"].replace(tzinfo=UTC) == clock.now + window for key in keys)
    assert not any("someone@example.com" in key["_id"] for key in keys)
    indexes = await store.master[THROTTLE_ATTEMPTS].index_information()
    assert indexes["expiry"]["expireAfterSeconds"] == 0


async def test_a_second_instance_sees_the_same_counters(
    started: ASGIApp, settings: Settings, store: Store, clock: Clock
) -> None:
    async with from_address(started, ATTACKER) as client:
        await created_org(client)
        for _ in range(settings.login_max_failures_per_account):
            await attempt(client)

    other = throttled(settings, store, clock)
    async with LifespanManager(other) as manager, from_address(manager.app, ATTACKER) as client:
        assert (await attempt(client, password=PASSWORD)).status_code == 429
