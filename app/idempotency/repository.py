"""The record of each idempotency key, in one master-database collection all instances share.

A request claims its key by inserting `{_id, fingerprint, state: "running", owner,
locked_until, expires_at}`; the unique `_id` makes the claim atomic, so of concurrent
requests with one key exactly one runs. The others find the record and are told what it
holds: a finished answer to replay, a different request (the fingerprints differ), or a
request still running. A running record whose lock has passed belongs to a process that
died; the next request takes it over atomically (the old lock is in the update's filter).
Each record is forgotten when `expires_at` passes (a TTL index; until the server's monitor
removes it, an expired record is treated as absent).
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from bson.binary import Binary
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.db.schema import IDEMPOTENCY_KEYS
from app.db.store import Document, Store
from app.idempotency.sealing import KeyIdentity, Sealer

RETENTION = timedelta(hours=24)
# How long a claim holds before it is taken for a dead process's. Longer than any request.
LOCK = timedelta(seconds=60)
_RUNNING = "running"
_DONE = "done"
_ATTEMPTS = 5


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SavedResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def encode(self) -> bytes:
        return bson.encode(
            {
                "status": self.status,
                "headers": [[Binary(name), Binary(value)] for name, value in self.headers],
                "body": Binary(self.body),
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> "SavedResponse":
        document: dict[str, Any] = bson.decode(data)
        return cls(
            status=int(document["status"]),
            headers=[(bytes(name), bytes(value)) for name, value in document["headers"]],
            body=bytes(document["body"]),
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """This request holds the key: run it, then `complete` or `release`."""

    identity: KeyIdentity
    owner: str


@dataclass(frozen=True, slots=True)
class Replay:
    response: SavedResponse


@dataclass(frozen=True, slots=True)
class Reused:
    """The key was first sent with another request."""


@dataclass(frozen=True, slots=True)
class InProgress:
    retry_after_seconds: int


Claim = Claimed | Replay | Reused | InProgress


class IdempotencyRecords:
    def __init__(
        self,
        store: Store,
        secrets: Sequence[str],
        *,
        retention: timedelta = RETENTION,
        lock: timedelta = LOCK,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._records = store.master[IDEMPOTENCY_KEYS]
        self._sealer = Sealer(secrets)
        self._retention = retention
        self._lock = lock
        self._clock = clock

    async def claim(self, identity: KeyIdentity, digest: bytes) -> Claim:
        """Claim `identity` for the request whose `request_digest` is `digest`, or say why not."""
        record_id = identity.record_id
        for _ in range(_ATTEMPTS):
            now = self._clock()
            fresh = self._fresh_claim(identity, digest, now)
            try:
                await self._records.insert_one({"_id": record_id, **fresh})
            except DuplicateKeyError:
                pass
            else:
                return Claimed(identity, fresh["owner"])
            existing = await self._records.find_one({"_id": record_id})
            if existing is None:
                continue  # forgotten in between: claim again
            if _aware(existing["expires_at"]) > now:
                outcome = self._judge(identity, digest, existing, now)
                if outcome is not None:
                    return outcome
            # Expired, a dead process's lock, or an answer no secret opens any more: take it
            # over, unless another request did first.
            unchanged = {
                name: existing.get(name)
                for name in ("owner", "state", "expires_at", "locked_until")
            }
            taken = await self._records.find_one_and_update(
                {"_id": record_id, **unchanged},
                {"$set": fresh, "$unset": {"sealed": "", "completed_at": ""}},
                return_document=ReturnDocument.AFTER,
            )
            if taken is not None:
                return Claimed(identity, fresh["owner"])
        return InProgress(1)

    async def complete(self, claim: Claimed, response: SavedResponse) -> bool:
        """Save the answer for replays; False when the claim was lost (taken over)."""
        now = self._clock()
        sealed = self._sealer.seal(claim.identity, response.encode())
        result = await self._records.update_one(
            {"_id": claim.identity.record_id, "owner": claim.owner, "state": _RUNNING},
            {
                "$set": {
                    "state": _DONE,
                    "sealed": Binary(sealed),
                    "completed_at": now,
                    "expires_at": now + self._retention,
                },
                "$unset": {"locked_until": ""},
            },
        )
        return result.modified_count == 1

    async def release(self, claim: Claimed) -> None:
        """Forget the claim, so that a retry with the key runs again."""
        await self._records.delete_one(
            {"_id": claim.identity.record_id, "owner": claim.owner, "state": _RUNNING}
        )

    def _fresh_claim(self, identity: KeyIdentity, digest: bytes, now: datetime) -> Document:
        return {
            "fingerprint": self._sealer.fingerprint(identity, digest),
            "state": _RUNNING,
            "owner": uuid.uuid4().hex,
            "created_at": now,
            "locked_until": now + self._lock,
            "expires_at": now + self._retention,
        }

    def _judge(
        self, identity: KeyIdentity, digest: bytes, existing: Document, now: datetime
    ) -> Claim | None:
        """What a live record means for this request; None when it may be taken over."""
        if not self._sealer.matches(identity, digest, existing["fingerprint"]):
            return Reused()
        if existing["state"] == _DONE:
            opened = self._sealer.open(identity, bytes(existing["sealed"]))
            return None if opened is None else Replay(SavedResponse.decode(opened))
        remaining = (_aware(existing["locked_until"]) - now).total_seconds()
        if remaining > 0:
            return InProgress(1)
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
