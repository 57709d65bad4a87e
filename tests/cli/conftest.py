"""Operator commands run against the test's store, seeded through the real app.

The CLI runs its own event loop (`asyncio.run`), so CLI tests are plain functions. The
`operator` fixture keeps pytest-asyncio's loop, on which the `client` fixture's app lives,
to drive that app between commands.
"""

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from httpx import AsyncClient
from typer.testing import CliRunner, Result

from app.cli.main import app
from app.cli.runtime import CliConfig
from app.config import Settings
from app.db.store import Store
from tests.support import tenants

T = TypeVar("T")

# Wide enough that Rich never folds an id or a collection name across lines.
_TERMINAL = {"COLUMNS": "250"}


@dataclass
class Operator:
    client: AsyncClient
    store: Store
    settings: Settings
    loop: asyncio.AbstractEventLoop

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work` on the loop the app and the store were set up on."""
        return self.loop.run_until_complete(work)

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), obj=self.config(), input=input, env=_TERMINAL)

    def config(self) -> CliConfig:
        if not self.store.persistent:
            # The in-memory data lives in this store object: the CLI borrows it.
            return CliConfig(settings=self.settings, store=self.store)
        # A server-side store is bound to its event loop: the CLI opens its own client on the
        # same databases, as it does in production.
        return CliConfig(
            settings=self.settings.model_copy(
                update={
                    "mongo_uri": os.environ["MONGODB_TEST_URI"],
                    "primary_db": self.store.master.name,
                    "tenant_db": tenants(self.store).name,
                }
            )
        )


@pytest.fixture
def operator(client: AsyncClient, store: Store, settings: Settings) -> Operator:
    # A sync fixture runs with pytest-asyncio's loop set as current (and not running).
    return Operator(client, store, settings, asyncio.get_event_loop())
