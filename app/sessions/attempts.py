"""Attempts per key in a rolling window, held in MongoDB so every instance sees the same.

One document per key: `attempts`, the latest attempts (`at`, `id`, `pending`) oldest first,
never more than the key's limit of them, and `expires_at`, when the youngest leaves the window
(a TTL index forgets the key then). A key has room when it holds fewer than `limit` attempts
or its oldest is out of the window; the array is kept sorted, so that is two conditions on two
positions, `attempts.<limit - 1>` and `attempts.0.at`.

Taking an attempt is one `update_one` whose filter is that condition: MongoDB applies a
single-document update atomically and re-checks its filter against the document it changes,
so any number of concurrent takers get at most the room there is. The same update pushes the
attempt, sorts, and slices the array back to `limit` (dropping the expired oldest when it is
full). With `upsert` a first attempt creates the document; when a concurrent first attempt
created it a moment earlier, or the key is full, the insert fails on `_id`, and the update is
tried once more against the document that now exists.

A provisional attempt (a password being checked) is `pending` until its verdict: kept (the
flag is cleared through the positional `$`), or given back (`$pull` of its id). A request that
finds a key full of pending attempts waits a little for their verdicts instead of answering
429 at once, so that many right passwords sent together all get in, a few at a time, while
wrong ones never get more checks than the limit.
"""

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from app.db.schema import THROTTLE_ATTEMPTS
from app.db.store import Store

Clock = Callable[[], datetime]

# A pending attempt older than this has lost its request (a process that died mid-check): it
# counts as an attempt until it leaves the window, but nobody waits for its verdict.
STALE_PENDING = timedelta(seconds=60)
_FIRST_POLL_SECONDS = 0.02
_LAST_POLL_SECONDS = 0.5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `limit` attempts under `key` within any `window`."""

    key: str
    limit: int
    window: timedelta


class QuotaFull(Exception):
    """A key had no room; its oldest attempt leaves the window in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class _Held:
    key: str
    attempt_id: ObjectId


@dataclass(frozen=True, slots=True)
class _Refusal:
    retry_after: int
    undecided: bool  # some attempts of the key still wait for their verdict


class Reservation:
    """Attempts taken under one or more keys; provisional ones until kept or given back."""

    def __init__(self, log: "AttemptLog", held: list[_Held]) -> None:
        self._log = log
        self._held = held

    async def keep(self) -> None:
        """The attempts stay counted until they leave the window."""
        held, self._held = self._held, []
        await self._log.settle(held)

    async def release(self) -> None:
        """Give every attempt back. Both run to the end even in a cancelled task."""
        held, self._held = self._held, []
        await self._log.give_back(held)


class AttemptLog:
    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self._attempts = store.master[THROTTLE_ATTEMPTS]
        self._clock = clock

    async def reserve(
        self, quotas: Sequence[Quota], *, provisional: bool = False, patience: float = 0
    ) -> Reservation:
        """Take one attempt under each quota's key, or none at all: raise QuotaFull.

        A key full of provisional attempts of other requests is waited for, up to `patience`
        seconds, since their verdicts may give room back.
        """
        deadline = time.monotonic() + patience
        pause = _FIRST_POLL_SECONDS
        while True:
            try:
                return await self._reserve_once(quotas, provisional)
            except _Refused as refused:
                refusal = refused.refusal
            if not refusal.undecided or time.monotonic() + pause > deadline:
                raise QuotaFull(refusal.retry_after)
            await anyio.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 (jitter only)
            pause = min(pause * 2, _LAST_POLL_SECONDS)

    async def settle(self, held: Sequence[_Held]) -> None:
        with anyio.CancelScope(shield=True):
            for attempt in held:
                await self._attempts.update_one(
                    {"_id": attempt.key, "attempts.id": attempt.attempt_id},
                    {"$set": {"attempts.$.pending": False}},
                )

    async def give_back(self, held: Sequence[_Held]) -> None:
        with anyio.CancelScope(shield=True):  # a cancelled request still lets go
            for attempt in held:
                await self._attempts.update_one(
                    {"_id": attempt.key},
                    {"$pull": {"attempts": {"id": {"$eq": attempt.attempt_id}}}},
                )

    async def _reserve_once(self, quotas: Sequence[Quota], provisional: bool) -> Reservation:
        now = _to_milliseconds(self._clock())
        held: list[_Held] = []
        try:
            for quota in quotas:
                attempt_id = ObjectId()
                if not await self._take(quota, now, attempt_id, provisional):
                    raise _Refused(await self._refusal(quota, now))
                held.append(_Held(quota.key, attempt_id))
        except BaseException:
            await self.give_back(held)
            raise
        return Reservation(self, held)

    async def _take(
        self, quota: Quota, now: datetime, attempt_id: ObjectId, provisional: bool
    ) -> bool:
        room: dict[str, Any] = {
            "_id": quota.key,
            "$or": [
                {f"attempts.{quota.limit - 1}": {"$exists": False}},
                {"attempts.0.at": {"$lte": now - quota.window}},
            ],
        }
        take = {
            "$push": {
                "attempts": {
                    "$each": [{"at": now, "id": attempt_id, "pending": provisional}],
                    "$sort": {"at": 1},
                    "$slice": -quota.limit,
                }
            },
            "$max": {"expires_at": now + quota.window},
        }
        for _ in range(2):
            try:
                result = await self._attempts.update_one(room, take, upsert=True)
            except DuplicateKeyError:
                continue  # the document exists now: try the filter against it
            return result.matched_count == 1 or result.upserted_id is not None
        return False

    async def _refusal(self, quota: Quota, now: datetime) -> _Refusal:
        found = await self._attempts.find_one({"_id": quota.key})
        attempts = [a for a in (found or {}).get("attempts") or [] if isinstance(a, dict)]
        in_window = [a for a in attempts if _aware(a["at"]) > now - quota.window]
        if not in_window:
            return _Refusal(1, undecided=True)  # room again already: try at once
        oldest = _aware(in_window[0]["at"])
        return _Refusal(
            max(1, math.ceil((oldest + quota.window - now).total_seconds())),
            undecided=any(
                a.get("pending") and _aware(a["at"]) > now - STALE_PENDING for a in in_window
            ),
        )


class _Refused(Exception):
    def __init__(self, refusal: _Refusal) -> None:
        super().__init__(refusal.retry_after)
        self.refusal = refusal


def _to_milliseconds(moment: datetime) -> datetime:
    """BSON dates keep milliseconds: compare what is stored with what is asked."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
