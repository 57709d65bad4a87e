"""Database calls that fail on purpose: a process that dies, or one call that fails.

`Crash` plays process death: at a named lifecycle checkpoint the store stops taking requests,
and from then on every database call raises, as if the process had died between two steps
(nothing after the checkpoint, clean-up included, reaches MongoDB); a fresh app on the
underlying store then plays the restarted service. `FailOnce` plays an unlucky moment: the
K-th database call made while it is armed raises a network error, and every other call works.
"""

import inspect
from dataclasses import replace
from typing import Any, Protocol, cast

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, BulkWriteError, ConnectionFailure

from app.db.store import Client, Document, Store


class Gate(Protocol):
    def before(self, call: str) -> None:
        """Runs before every database call; raises to make the call fail."""

    def after(self, call: str) -> None:
        """Runs once the call has been carried out; raises to lose its answer."""


class Crash:
    def __init__(self, at: str) -> None:
        self.at = at
        self.happened = False

    async def checkpoint(self, name: str) -> None:
        if name == self.at:
            self.happened = True
            raise ConnectionFailure(f"simulated crash at {name}")

    def before(self, call: str) -> None:
        if self.happened:
            raise ConnectionFailure("the process has died")

    def after(self, call: str) -> None:
        return None


# Writes the driver does not retry by itself when their answer is lost: multi-document writes
# and commands. Single-document writes are retryable writes, which the driver sends again
# exactly once on a replica set or sharded cluster; on a standalone server they are not.
NOT_RETRIED = {
    "update_many",
    "delete_many",
    "create_collection",
    "drop_collection",
    "drop",
    "rename",
    "create_index",
    "create_indexes",
    "drop_index",
    "command",
}


class FailOnce:
    """Counts database calls while armed and fails the `at`-th (1-based) one before it
    reaches the server; or, with `lost_reply`, counts the writes the driver does not retry
    and fails the `at`-th of them after the server carried it out, as when the connection
    drops while the answer is on its way."""

    def __init__(self) -> None:
        self.at = 0
        self.lost_reply = False
        self.calls: list[str] = []
        self.failed: str | None = None

    def arm(self, at: int, *, lost_reply: bool = False) -> None:
        self.at, self.lost_reply, self.calls, self.failed = at, lost_reply, [], None

    def disarm(self) -> None:
        self.at = 0

    def before(self, call: str) -> None:
        if self.at and not self.lost_reply and self._is_the_one(call):
            raise AutoReconnect(f"injected failure of call {self.at} ({call})")

    def after(self, call: str) -> None:
        if self.at and self.lost_reply and self._is_the_one(call):
            raise AutoReconnect(f"injected lost reply of call {self.at} ({call})")

    def _is_the_one(self, call: str) -> bool:
        if self.lost_reply and call.rsplit(".", 1)[-1] not in NOT_RETRIED:
            return False
        self.calls.append(call)
        if len(self.calls) != self.at:
            return False
        self.failed = call
        return True


class MissWriteConcern:
    """Every `insert_many` into `database` is carried out, and its answer then reports only a
    write concern error, as a replica set does when too few members confirm it in time."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.missed = 0

    def before(self, call: str) -> None:
        return None

    def after(self, call: str) -> None:
        if call.startswith(f"{self.database}.") and call.endswith(".insert_many"):
            self.missed += 1
            raise BulkWriteError(
                {
                    "writeErrors": [],
                    "writeConcernErrors": [
                        {
                            "code": 64,
                            "codeName": "WriteConcernTimeout",
                            "errmsg": "waiting for replication timed out",
                            "errInfo": {"wtimeout": True},
                        }
                    ],
                    "nInserted": 0,
                    "nUpserted": 0,
                    "nMatched": 0,
                    "nModified": 0,
                    "nRemoved": 0,
                    "upserted": [],
                }
            )


class _Gated:
    def __init__(self, target: Any, gate: Gate, path: str) -> None:
        self._target = target
        self._gate = gate
        self._path = path

    def __getitem__(self, name: str) -> "_Gated":
        return _Gated(self._target[name], self._gate, f"{self._path}.{name}")

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            where = f"{self._path}.{name}"
            self._gate.before(where)
            result = attribute(*args, **kwargs)
            if not inspect.isawaitable(result):
                self._gate.after(where)
                return result

            async def answered() -> Any:
                value = await result
                self._gate.after(where)
                return value

            return answered()

        return call


class _GatedClient:
    def __init__(self, client: Client, gate: Gate) -> None:
        self._client = client
        self._gate = gate

    def get_database(self, name: str) -> AsyncDatabase[Document]:
        return cast(
            AsyncDatabase[Document], _Gated(self._client.get_database(name), self._gate, name)
        )

    async def list_database_names(self) -> list[str]:
        self._gate.before("list_database_names")
        names = await self._client.list_database_names()
        self._gate.after("list_database_names")
        return names

    async def close(self) -> None:
        await self._client.close()


def gated_store(store: Store, gate: Gate) -> Store:
    """The same databases, every call of which passes `gate` first."""
    return replace(
        store,
        master=cast(AsyncDatabase[Document], _Gated(store.master, gate, "master")),
        client=_GatedClient(store.client, gate),
    )


def dying_store(store: Store, crash: Crash) -> Store:
    return gated_store(store, crash)
