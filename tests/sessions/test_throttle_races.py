"""Guesses sent all at once get no more password checks than the throttle's limit, on every
path that checks a password; right passwords are not counted, and neither are checks that
never reached a verdict.

Each bcrypt check here first yields to the other requests, so that all of them are under way
together, as they are against a busy server.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.access.passwords import PasswordHasher
from app.config import Settings
from app.db.schema import THROTTLE_ATTEMPTS
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.invitations.test_invitations import NEW_PASSWORD, accept, invited, organization
from tests.outbox import Outbox
from tests.support import EMAIL, PASSWORD, bearer, create_org, created_org, login, rename

WRONG = "Wrong-Guess-123"
AT_ONCE = 30
INVITEE = "newcomer@techcorp.com"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No address is trusted for an account after a login, so the account limit applies."""
    return settings.model_copy(update={"login_trusted_address_days": 0})


@pytest.fixture
def app(settings: Settings, store: Store, outbox: Outbox) -> FastAPI:
    """The suite's app, built after invitation emails are redirected to the outbox."""
    return create_app(settings, store_opener=lambda _: borrowed(store))


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password bcrypt checks, in order."""
    passwords: list[str] = []
    verify = PasswordHasher.verify

    async def recorded(self: PasswordHasher, password: str, password_hash: str | None) -> bool:
        passwords.append(password)
        await asyncio.sleep(0.01)
        return await verify(self, password, password_hash)

    monkeypatch.setattr(PasswordHasher, "verify", recorded)
    return passwords


async def all_at_once(attempt: Callable[[int], Awaitable[Response]]) -> list[Response]:
    return list(await asyncio.gather(*(attempt(i) for i in range(AT_ONCE))))


def assert_throttled(responses: list[Response], refused: int, limit: int) -> None:
    """`limit` answers `refused` (the wrong password), every other one 429 with Retry-After."""
    assert Counter(r.status_code for r in responses) == {refused: limit, 429: AT_ONCE - limit}
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("path", ["/admin/login", "/api/v1/auth/login"])
async def test_guesses_at_once_at_login(
    client: AsyncClient, settings: Settings, checked: list[str], path: str
) -> None:
    await created_org(client)

    responses = await all_at_once(
        lambda _: client.post(path, json={"email": EMAIL, "password": WRONG})
    )

    assert_throttled(responses, 401, settings.login_max_failures_per_account)
    assert checked.count(WRONG) == settings.login_max_failures_per_account


async def test_guesses_at_once_at_the_rename_confirmation(
    client: AsyncClient, settings: Settings, checked: list[str]
) -> None:
    await created_org(client)
    token = await login(client)

    responses = await all_at_once(lambda i: rename(client, token, f"Stolen {i}", password=WRONG))

    assert_throttled(responses, 401, settings.login_max_failures_per_account)
    assert checked.count(WRONG) == settings.login_max_failures_per_account


async def test_guesses_at_once_at_a_password_change(
    client: AsyncClient, settings: Settings, checked: list[str]
) -> None:
    await created_org(client)
    token = await login(client)

    responses = await all_at_once(
        lambda _: client.post(
            "/api/v1/auth/password",
            json={"current_password": WRONG, "new_password": "Brand-New-Password-1"},
            headers=bearer(token),
        )
    )

    assert_throttled(responses, 401, settings.login_max_failures_per_account)
    assert checked.count(WRONG) == settings.login_max_failures_per_account


async def test_guesses_at_once_when_signing_up_with_an_existing_email(
    client: AsyncClient, settings: Settings, checked: list[str]
) -> None:
    await created_org(client)

    responses = await all_at_once(lambda i: create_org(client, f"Squatter {i}", EMAIL, WRONG))

    assert_throttled(responses, 409, settings.login_max_failures_per_account)
    assert checked.count(WRONG) == settings.login_max_failures_per_account
    assert {r.json()["detail"] for r in responses if r.status_code == 429} == {
        "Too many failed attempts; try again later"
    }


async def test_guesses_at_once_when_accepting_an_invitation_for_an_existing_account(
    client: AsyncClient, settings: Settings, outbox: Outbox, checked: list[str]
) -> None:
    org = await organization(client)
    await created_org(client, "Newcomer Labs", INVITEE, NEW_PASSWORD)
    _, token = await invited(client, outbox, org, INVITEE)

    responses = await all_at_once(lambda _: accept(client, token, password=WRONG))

    assert_throttled(responses, 409, settings.login_max_failures_per_account)
    assert checked.count(WRONG) == settings.login_max_failures_per_account
    assert {r.json()["code"] for r in responses if r.status_code == 429} == {"rate_limited"}


async def test_right_passwords_at_once_all_get_in(client: AsyncClient, checked: list[str]) -> None:
    await created_org(client)

    responses = await all_at_once(
        lambda _: client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
    )

    assert [r.status_code for r in responses] == [200] * AT_ONCE
    assert checked.count(PASSWORD) == AT_ONCE


async def test_a_right_password_is_not_counted(
    client: AsyncClient, settings: Settings, store: Store
) -> None:
    await created_org(client)
    limit = settings.login_max_failures_per_account

    for _ in range(limit - 1):
        assert (await wrong_login(client)).status_code == 401
    assert (
        await client.post("/admin/login", json={"email": EMAIL, "password": PASSWORD})
    ).status_code == 200
    assert await held(store) == {"account": limit - 1, "address": limit - 1}
    assert (await wrong_login(client)).status_code == 401  # the last one the limit allows
    assert (await wrong_login(client)).status_code == 429


async def test_a_check_cut_short_gives_its_attempt_back(
    client: AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await created_org(client)
    started = asyncio.Event()

    async def never_finishes(self: PasswordHasher, password: str, hashed: str | None) -> bool:
        started.set()
        await asyncio.Event().wait()
        return False

    monkeypatch.setattr(PasswordHasher, "verify", never_finishes)
    request = asyncio.create_task(wrong_login(client))
    await started.wait()
    assert await held(store) == {"account": 1, "address": 1}
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request

    assert await held(store) == {"account": 0, "address": 0}


async def wrong_login(client: AsyncClient) -> Response:
    return await client.post("/admin/login", json={"email": EMAIL, "password": WRONG})


async def held(store: Store) -> dict[str, int]:
    """The attempts counted under each kind of key (`account`, `address`)."""
    keys = await store.master[THROTTLE_ATTEMPTS].find({}).to_list()
    return {key["_id"].split(":")[1]: len(key["attempts"]) for key in keys}
