"""Rotating SECRET_KEY: new tokens use the new key; tokens of the retired key live on."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from app.config import Settings
from app.db.store import Store
from app.factory import create_app
from tests.conftest import borrowed
from tests.support import created_org, login, rename

OLD_KEY = "old-key-0123456789-abcdefghijklmnopqrstuvwxyz"
NEW_KEY = "new-key-9876543210-zyxwvutsrqponmlkjihgfedcba"


@asynccontextmanager
async def serving(settings: Settings, store: Store) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, store_opener=lambda _: borrowed(store))
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://t") as client,
    ):
        yield client


async def test_tokens_of_a_retired_key_keep_working_until_it_is_dropped(
    settings: Settings, store: Store
) -> None:
    before = settings.model_copy(update={"secret_key": SecretStr(OLD_KEY)})
    rotated = settings.model_copy(
        update={"secret_key": SecretStr(NEW_KEY), "previous_secret_keys": [SecretStr(OLD_KEY)]}
    )
    after = settings.model_copy(update={"secret_key": SecretStr(NEW_KEY)})

    async with serving(before, store) as client:
        await created_org(client)
        old_token = await login(client)
    async with serving(rotated, store) as client:
        assert (await rename(client, old_token, "Second Name")).status_code == 200
        new_token = await login(client)
        assert (
            jwt.get_unverified_header(new_token)["kid"]
            != jwt.get_unverified_header(old_token)["kid"]
        )
    async with serving(after, store) as client:
        assert (await rename(client, old_token, "Third Name")).status_code == 401
        assert (await rename(client, new_token, "Third Name")).status_code == 200


async def test_an_unknown_key_id_is_refused(client: AsyncClient, settings: Settings) -> None:
    await created_org(client)
    claims = jwt.decode(await login(client), options={"verify_signature": False})
    forged = jwt.encode(
        claims, settings.secret_key.get_secret_value(), settings.algorithm, headers={"kid": "x"}
    )

    assert (await rename(client, forged, "Forged")).status_code == 401
