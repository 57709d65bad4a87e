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

import anyio
from bson import ObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from app.db.schema import THROTTLE_ATTEMPTS
from app.db.store import Document, Store

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
        await self._each(
            held,
            lambda attempt: UpdateOne(
                {"_id": attempt.key, "attempts.id": attempt.attempt_id},
                {"$set": {"attempts.$.pending": False}},
            ),
        )

    async def give_back(self, held: Sequence[_Held]) -> None:
        await self._each(
            held,
            lambda attempt: UpdateOne(
                {"_id": attempt.key},
                {"$pull": {"attempts": {"id": {"$eq": attempt.attempt_id}}}},
            ),
        )

    async def _each(self, held: Sequence[_Held], update: Callable[[_Held], UpdateOne]) -> None:
        """One update per attempt, all in one command; it runs to the end even in a cancelled
        task, so a cancelled request still lets go."""
        if not held:
            return
        with anyio.CancelScope(shield=True):
            await self._attempts.bulk_write([update(attempt) for attempt in held], ordered=False)

    async def _reserve_once(self, quotas: Sequence[Quota], provisional: bool) -> Reservation:
        """Every quota's attempt in one unordered bulk write; when one key has no room, the
        attempts the others took are given back."""
        now = _to_milliseconds(self._clock())
        held = [_Held(quota.key, ObjectId()) for quota in quotas]
        taken = list(held)  # what to give back if this goes no further: maybe all of it
        try:
            try:
                await self._attempts.bulk_write(
                    [
                        UpdateOne(self._room(q, now), self._take(h, q, now, provisional), True)
                        for q, h in zip(quotas, held, strict=True)
                    ],
                    ordered=False,
                )
                missed: set[int] = set()
            except BulkWriteError as error:
                missed = _refused_statements(error)
            taken = [attempt for index, attempt in enumerate(held) if index not in missed]
            for index in sorted(missed):
                # The key was full, or a concurrent first attempt had just created it: try
                # the filter once more against the document that exists now.
                if not await self._take_again(quotas[index], held[index], now, provisional):
                    raise _Refused(await self._refusal(quotas[index], now))
                taken.append(held[index])
        except BaseException:
            await self.give_back(taken)
            raise
        return Reservation(self, held)

    async def _take_again(
        self, quota: Quota, held: _Held, now: datetime, provisional: bool
    ) -> bool:
        try:
            result = await self._attempts.update_one(
                self._room(quota, now), self._take(held, quota, now, provisional), upsert=True
            )
        except DuplicateKeyError:
            return False
        return result.matched_count == 1 or result.upserted_id is not None

    @staticmethod
    def _room(quota: Quota, now: datetime) -> Document:
        return {
            "_id": quota.key,
            "$or": [
                {f"attempts.{quota.limit - 1}": {"$exists": False}},
                {"attempts.0.at": {"$lte": now - quota.window}},
            ],
        }

    @staticmethod
    def _take(held: _Held, quota: Quota, now: datetime, provisional: bool) -> Document:
        return {
            "$push": {
                "attempts": {
                    "$each": [{"at": now, "id": held.attempt_id, "pending": provisional}],
                    "$sort": {"at": 1},
                    "$slice": -quota.limit,
                }
            },
            "$max": {"expires_at": now + quota.window},
        }

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


_DUPLICATE_KEY = 11000


def _refused_statements(error: BulkWriteError) -> set[int]:
    """The statements of a bulk write that found no room: with `upsert`, a filter that does
    not match tries to insert the key's `_id`, which exists. Any other error is raised."""
    failures = error.details.get("writeErrors") or []
    if any(failure.get("code") != _DUPLICATE_KEY for failure in failures):
        raise error
    if error.details.get("writeConcernErrors"):
        raise error
    return {int(failure["index"]) for failure in failures}


def _to_milliseconds(moment: datetime) -> datetime:
    """BSON dates keep milliseconds: compare what is stored with what is asked."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
