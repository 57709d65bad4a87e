"""Simulated process death: at a named lifecycle checkpoint, the store stops taking requests.

From that moment every database call raises, as if the process had died between two steps:
nothing after the checkpoint (including any clean-up) reaches MongoDB. A fresh app on the
underlying store then plays the restarted service.
"""

from dataclasses import replace
from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from app.db.store import Client, Document, Store


class Crash:
    def __init__(self, at: str) -> None:
        self.at = at
        self.happened = False

    async def checkpoint(self, name: str) -> None:
        if name == self.at:
            self.happened = True
            raise ConnectionFailure(f"simulated crash at {name}")

    def check_alive(self) -> None:
        if self.happened:
            raise ConnectionFailure("the process has died")


class _Dying:
    def __init__(self, target: Any, crash: Crash) -> None:
        self._target = target
        self._crash = crash

    def __getitem__(self, name: str) -> "_Dying":
        return _Dying(self._target[name], self._crash)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._crash.check_alive()
            return attribute(*args, **kwargs)

        return call


class _DyingClient:
    def __init__(self, client: Client, crash: Crash) -> None:
        self._client = client
        self._crash = crash

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return cast(AsyncDatabase[Document], _Dying(self._client.get_database(name), self._crash))

    async def list_database_names(self) -> list[str]:
        self._crash.check_alive()
        return await self._client.list_database_names()

    async def close(self) -> None:
        await self._client.close()


def dying_store(store: Store, crash: Crash) -> Store:
    return replace(
        store,
        master=cast(AsyncDatabase[Document], _Dying(store.master, crash)),
        client=_DyingClient(store.client, crash),
    )
