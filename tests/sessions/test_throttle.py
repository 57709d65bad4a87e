"""Failed logins are throttled per account and per address, in MongoDB, never for good, in
a rolling window; sign-ups per address and in all."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.access.passwords import PasswordHasher
from app.api.state import Services, build_services, signup_policy, throttle_policy
from app.config import Settings
from app.db.schema import ORGANIZATIONS, THROTTLE_ATTEMPTS, TRUSTED_ADDRESSES
from app.db.store import Store
from app.factory import create_app
from app.organizations.lifecycle import no_checkpoint
from app.organizations.signups import SignupThrottle
from app.sessions.throttle import LoginThrottle
from tests.conftest import borrowed
from tests.support import EMAIL, PASSWORD, create_org, created_org, rename

HOME = "198.51.100.7"
ATTACKER = "203.0.113.66"


class Clock:
    """Five seconds past the next multiple of 15 minutes (the default LOGIN_WINDOW_SECONDS),
    where a fixed window would start: the attempts' TTL index deletes keys whose attempts left
    the window in real time, so the clock must not lag."""

    def __init__(self) -> None:
        now = int(datetime.now(UTC).timestamp())
        self.now = datetime.fromtimestamp(now - now % 900 + 900 + 5, UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def on_test_clock(app: ASGIApp, clock: Clock) -> ASGIApp:
    """`app` with throttles that read the test's clock: each request is handed services
    built once from those the app's lifespan started, but for the throttles."""
    built: list[Services] = []

    async def with_clock(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if not built:
                real: Services = scope["state"]["services"]
                built.append(
                    build_services(
                        real.settings,
                        real.store,
                        metrics=real.metrics,
                        hasher=PasswordHasher(real.settings.bcrypt_rounds, 2),
                        capacity=real.capacity,
                        checkpoint=no_checkpoint,
                        throttle=LoginThrottle(real.store, throttle_policy(real.settings), clock),
                        signups=SignupThrottle(real.store, signup_policy(real.settings), clock),
                    )
                )
            scope = {**scope, "state": {**scope["state"], "services": built[0]}}
        await app(scope, receive, send)

    return with_clock


@contextlib.asynccontextmanager
async def throttled(settings: Settings, store: Store, clock: Clock) -> AsyncIterator[ASGIApp]:
    """The service started on `store`, its throttles on the test's clock."""
    app = create_app(settings, store_opener=lambda _: borrowed(store))
    async with LifespanManager(on_test_clock(app, clock)) as manager:
        yield manager.app


@pytest.fixture
async def started(settings: Settings, store: Store, clock: Clock) -> AsyncIterator[ASGIApp]:
    async with throttled(settings, store, clock) as app:
        yield app


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


async def test_the_trust_in_an_address_is_rewritten_at_most_once_a_day(
    started: ASGIApp, store: Store, settings: Settings, clock: Clock
) -> None:
    async def trusted_until() -> list[datetime]:
        found = await store.master[TRUSTED_ADDRESSES].find({}).to_list()
        return [record["expires_at"].replace(tzinfo=UTC) for record in found]

    trust = timedelta(days=settings.login_trusted_address_days)
    async with from_address(started, HOME) as home:
        await created_org(home)
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        first = clock.now + trust
        assert await trusted_until() == [first]

        clock.now += timedelta(hours=23)
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        assert await trusted_until() == [first]

        clock.now += timedelta(hours=2)
        assert (await attempt(home, password=PASSWORD)).status_code == 200
        assert await trusted_until() == [clock.now + trust]


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

    async with throttled(settings, store, clock) as other, from_address(other, ATTACKER) as client:
        assert (await attempt(client, password=PASSWORD)).status_code == 429


async def test_the_window_rolls_instead_of_restarting(
    started: ASGIApp, settings: Settings, clock: Clock
) -> None:
    """Failures just before where a fixed window would end still count just after it."""
    limit = settings.login_max_failures_per_account
    edge = clock.now - timedelta(seconds=5) + timedelta(seconds=settings.login_window_seconds)
    first = edge - timedelta(seconds=limit)
    async with from_address(started, ATTACKER) as client:
        for i in range(limit):
            clock.now = first + timedelta(seconds=i)
            assert (await attempt(client)).status_code == 401

        clock.now = edge + timedelta(seconds=1)
        after_the_edge = [await attempt(client) for _ in range(limit)]
        assert {r.status_code for r in after_the_edge} == {429}
        retry_after = int(after_the_edge[0].headers["retry-after"])
        assert retry_after == settings.login_window_seconds - limit - 1

        clock.now += timedelta(seconds=retry_after - 1)
        assert (await attempt(client)).status_code == 429
        clock.now += timedelta(seconds=1)  # the oldest failure leaves the window
        assert (await attempt(client)).status_code == 401
        assert (await attempt(client)).status_code == 429


async def test_rotating_addresses_gets_no_more_guesses_at_one_account(
    started: ASGIApp, settings: Settings
) -> None:
    limit = settings.login_max_failures_per_account
    async with from_address(started, HOME) as home:
        await created_org(home)

    answers = []
    for i in range(limit * 4):
        async with from_address(started, f"203.0.113.{i + 1}") as client:
            answers.append((await attempt(client)).status_code)

    assert answers == [401] * limit + [429] * (limit * 3)


async def test_the_app_itself_ignores_x_forwarded_for(started: ASGIApp, settings: Settings) -> None:
    """Only a trusted proxy in front (see FORWARDED_ALLOW_IPS) may rewrite the client."""
    limit = settings.login_max_failures_per_address
    async with from_address(started, ATTACKER) as client:
        for i in range(limit):
            response = await client.post(
                "/admin/login",
                json={"email": f"victim{i}@example.com", "password": "WrongPassword"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            assert response.status_code == 401

        spoofed = await client.post(
            "/admin/login",
            json={"email": "fresh@example.com", "password": "WrongPassword"},
            headers={"X-Forwarded-For": "192.0.2.200"},
        )

    assert spoofed.status_code == 429


def with_signup_limits(settings: Settings, per_address: int, total: int) -> Settings:
    return settings.model_copy(
        update={"signup_per_address_per_hour": per_address, "signup_total_per_hour": total}
    )


async def test_sign_ups_are_limited_per_address_for_an_hour(
    settings: Settings, store: Store, clock: Clock
) -> None:
    limited = with_signup_limits(settings, 2, 0)
    async with (
        throttled(limited, store, clock) as app,
        from_address(app, ATTACKER) as client,
    ):
        assert (await create_org(client, "First", "a@example.com")).status_code == 201
        # A failed sign-up counts as well: each costs work, and names must not be probed freely.
        assert (await create_org(client, "First", "b@example.com")).status_code == 409
        refused = await create_org(client, "Third", "c@example.com")
        async with from_address(app, HOME) as elsewhere:
            assert (await create_org(elsewhere, "Elsewhere", "d@example.com")).status_code == 201

        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many sign-ups; try again later"}
        assert int(refused.headers["retry-after"]) == 3600
        clock.now += timedelta(hours=1)
        assert (await create_org(client, "Third", "c@example.com")).status_code == 201


async def test_sign_ups_are_limited_in_all(settings: Settings, store: Store, clock: Clock) -> None:
    async with throttled(with_signup_limits(settings, 0, 3), store, clock) as app:
        for i in range(3):
            async with from_address(app, f"198.51.100.{i + 1}") as client:
                assert (await create_org(client, f"Org {i}", f"{i}@example.com")).status_code == 201
        clock.now += timedelta(minutes=20)
        async with from_address(app, ATTACKER) as client:
            refused = await create_org(client, "Late", "late@example.com")
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) == 40 * 60

            clock.now += timedelta(minutes=40)
            assert (await create_org(client, "Late", "late@example.com")).status_code == 201
    assert await store.master[ORGANIZATIONS].count_documents({}) == 4


async def test_sign_ups_at_once_create_no_more_than_the_limit(
    settings: Settings, store: Store, clock: Clock
) -> None:
    limited = with_signup_limits(settings, 3, 0)
    async with (
        throttled(limited, store, clock) as app,
        from_address(app, ATTACKER) as client,
    ):
        responses = await asyncio.gather(
            *(create_org(client, f"Rush {i}", f"rush{i}@example.com") for i in range(12))
        )

    assert sorted(r.status_code for r in responses) == [201] * 3 + [429] * 9
    assert await store.master[ORGANIZATIONS].count_documents({}) == 3
