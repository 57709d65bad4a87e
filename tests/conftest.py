"""Each test gets its own app on its own in-memory store, driven over ASGI like a real client."""

import secrets
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.config import Settings
from app.db.memory import open_memory_store
from app.db.store import Store
from app.factory import create_app


class IsolatedSettings(Settings):
    """Settings from keyword arguments only: the developer's environment and `.env` are ignored."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@pytest.fixture
def settings() -> Settings:
    return IsolatedSettings(
        mongo_uri="memory://",
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        bcrypt_rounds=4,
        password_hash_workers=4,
    )


@pytest.fixture
def store(settings: Settings) -> Store:
    return open_memory_store(settings)


@pytest.fixture
def app(settings: Settings, store: Store) -> FastAPI:
    return create_app(settings, store_opener=lambda _: store)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client
