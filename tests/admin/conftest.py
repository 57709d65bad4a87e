"""Platform keys made as the CLI makes them, on the test's store and the app's settings."""

import pytest

from app.config import Settings
from app.db.store import Store
from app.operations.platform_keys import create_platform_key
from app.platform.models import PlatformScope
from tests.support import bearer


async def platform_key(store: Store, settings: Settings, scope: PlatformScope) -> str:
    minted = await create_platform_key(store, settings, f"{scope.value} key", scope, "ops")
    return minted.secret


@pytest.fixture
async def writer(store: Store, settings: Settings) -> dict[str, str]:
    return bearer(await platform_key(store, settings, PlatformScope.WRITE))


@pytest.fixture
async def reader(store: Store, settings: Settings) -> dict[str, str]:
    return bearer(await platform_key(store, settings, PlatformScope.READ))
