"""Simulated process death: at a named lifecycle checkpoint, the store stops taking requests.

From that moment every database call raises, as if the process had died between two steps:
nothing after the checkpoint (including any clean-up) reaches MongoDB. A fresh app on the
underlying store then plays the restarted service.
"""

from typing import Any, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from app.db.store import Document, Store


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


def dying_store(store: Store, crash: Crash) -> Store:
    return Store(
        master=cast(AsyncDatabase[Document], _Dying(store.master, crash)),
        tenants=cast(AsyncDatabase[Document], _Dying(store.tenants, crash)),
        persistent=store.persistent,
        client=store.client,
    )
