"""Recording events with the changes they describe, and settling the ones a crash left open.

There are no transactions across collections, so an event cannot be written in the same
atomic write as every change. Instead each change runs inside `Outbox.recording`: the event
is begun (a pending entry on the organization's stream, with its sequence number and a
`Subject` saying what the change will look like), the change is made, and the event is
committed once the change is in effect. A change refused by a rule (a domain error) drops
its event; a change that failed for any other reason (the database, a cancelled request)
is judged at once by reading its subject, and if even that fails, by `settle_stale` later:
the subject is read and the event committed if the change is there, dropped if not, left
while an operation on the organization is still under way. So a change never goes without
its event and an event never goes without its change, whichever step a crash interrupts.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import anyio
from bson import ObjectId

from app.errors import AppError, ServiceUnavailable
from app.events.catalogue import EventType
from app.events.models import Actor, Draft, Event, Subject, event_id
from app.events.repository import EventRepository
from app.kit.stopping import step

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Reads a subject by its key: the fields to compare with `Subject.expect`, None if absent.
SubjectReader = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Unsettled(Exception):
    """Raised by a subject reader while an operation on the subject is still under way."""


class Verdict(Enum):
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not_effective"
    UNSETTLED = "unsettled"


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, bool | int) else str(value)


def judge(subject: Subject, current: dict[str, Any] | None) -> Verdict:
    """Whether `current` (the subject as read now) shows the change described by `subject`."""
    expect = dict(subject.expect)
    present = expect.pop("present", True)
    if not present:
        return Verdict.EFFECTIVE if current is None else Verdict.NOT_EFFECTIVE
    if current is None:
        return Verdict.NOT_EFFECTIVE
    for name, value in expect.items():
        if _plain(current.get(name)) != _plain(value):
            return Verdict.NOT_EFFECTIVE
    return Verdict.EFFECTIVE


class Outbox:
    def __init__(
        self,
        repository: EventRepository,
        retention: timedelta,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._retention = retention
        self._clock = clock
        self._readers: dict[str, SubjectReader] = {}
        self._listeners: list[Callable[[], None]] = []

    def register(self, kind: str, reader: SubjectReader) -> None:
        """How to read subjects of `kind` (each feature registers its own at wiring time)."""
        self._readers[kind] = reader

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Called (synchronously, cheaply) after each commit: the webhook worker wakes up."""
        self._listeners.append(listener)

    @asynccontextmanager
    async def recording(
        self,
        event_type: EventType,
        organization_id: ObjectId,
        actor: Actor,
        data: dict[str, Any],
        subject: Subject,
    ) -> AsyncIterator[Draft]:
        """Begin the event, run the change (the block), then commit or drop the event.

        The block may replace `draft.data` with the object as the change left it, or call
        `draft.skip()` when it changed nothing."""
        draft = Draft(
            event_type.value, organization_id, actor, data, subject, begun_at=self._clock()
        )
        draft.sequence = await self._repository.begin(draft)
        try:
            yield draft
        except BaseException as failure:
            with anyio.CancelScope(shield=True):
                refused = isinstance(failure, AppError) and not isinstance(
                    failure, ServiceUnavailable
                )
                await self._resolve(draft, Verdict.NOT_EFFECTIVE if refused else None)
            raise
        with anyio.CancelScope(shield=True):
            await self._resolve(
                draft, Verdict.NOT_EFFECTIVE if draft.skipped else Verdict.EFFECTIVE
            )

    async def record(
        self,
        event_type: EventType,
        organization_id: ObjectId,
        actor: Actor,
        data: dict[str, Any],
        subject: Subject,
    ) -> None:
        """For a change already in effect that nothing can undo (a notice: an invitation
        found expired, an endpoint the worker disabled): begun and committed at once."""
        async with self.recording(event_type, organization_id, actor, data, subject):
            pass

    async def settle_stale(self, grace: timedelta) -> int:
        """Commit or drop the pending events begun more than `grace` ago; how many settled."""
        settled = 0
        for draft in await self._repository.stale_drafts(self._clock() - grace):
            try:
                verdict = await self._verdict(draft)
            except Exception:
                logger.exception("could not judge pending event %s", draft.sequence)
                continue
            if verdict is not Verdict.UNSETTLED:
                await self._apply(draft, verdict)
                settled += 1
        return settled

    async def _resolve(self, draft: Draft, verdict: Verdict | None) -> None:
        """Apply `verdict`, or the subject's when None; failures are left to `settle_stale`."""
        try:
            if verdict is None:
                verdict = await self._verdict(draft)
            if verdict is not Verdict.UNSETTLED:
                await self._apply(draft, verdict)
        except Exception:
            logger.exception(
                "event %s of organization %s left pending; recovery will settle it",
                draft.type,
                draft.organization_id,
            )

    async def _verdict(self, draft: Draft) -> Verdict:
        reader = self._readers.get(draft.subject.kind)
        if reader is None:
            logger.error("no reader for subjects of kind %r", draft.subject.kind)
            return Verdict.UNSETTLED
        try:
            current = await reader(draft.subject.key)
        except Unsettled:
            return Verdict.UNSETTLED
        return judge(draft.subject, current)

    async def _apply(self, draft: Draft, verdict: Verdict) -> None:
        if verdict is Verdict.NOT_EFFECTIVE:
            await self._repository.settle(draft.organization_id, draft.sequence)
            return
        occurred_at = self._clock()
        event = Event(
            id=event_id(draft.organization_id, draft.sequence),
            organization_id=draft.organization_id,
            sequence=draft.sequence,
            type=draft.type,
            occurred_at=occurred_at,
            actor=draft.actor,
            data=draft.data,
        )
        await self._repository.commit(event, occurred_at + self._retention)
        for listener in self._listeners:
            listener()


async def settle_periodically(outbox: Outbox, grace: timedelta, interval: timedelta) -> None:
    """Settle stale pending events every `interval`, for as long as the service runs."""
    while True:
        await anyio.sleep(interval.total_seconds())
        try:
            await step(outbox.settle_stale(grace))
        except Exception:
            logger.exception("could not settle pending events; trying again later")
