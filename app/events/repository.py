"""Every query on the event outbox: `event_streams` (one document per organization: the next
sequence number and the events begun but not yet settled) and `events` (the events).

An event is begun before its change (a pending entry, with the sequence number it will
have), committed once the change is in effect (the event inserted, then the entry pulled),
or dropped (the entry pulled). Readers never read past the oldest pending entry of an
organization, so an event committed late with a smaller number than one already read
cannot be skipped; see ARCHITECTURE.md, "Events".
"""

import asyncio
import contextlib
import random
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from app.db.schema import EVENT_STREAMS, EVENTS
from app.db.store import Document, Store
from app.errors import ServiceUnavailable
from app.events.catalogue import EventType
from app.events.models import Actor, Draft, Event, Subject

_ALLOCATION_ATTEMPTS = 50


class EventsBusy(ServiceUnavailable):
    code = "events_busy"
    detail = "Too many changes to this organization at once; try again"


class EventRepository:
    def __init__(self, store: Store) -> None:
        self._streams = store.master[EVENT_STREAMS]
        self._events = store.master[EVENTS]

    async def begin(self, draft: Draft) -> int:
        """Record `draft` as pending with the organization's next sequence number; returns it.

        The number and the pending entry are written in one conditional update (on the
        number read just before), so no reader ever sees a number handed out that is not
        pending or settled."""
        organization_id = draft.organization_id
        # A new organization's first event opens its stream: try that before reading it.
        opening = draft.type == EventType.ORGANIZATION_CREATED
        for _ in range(_ALLOCATION_ATTEMPTS):
            stream = None
            if not opening:
                stream = await self._streams.find_one({"_id": organization_id}, {"next": 1})
            opening = False
            if stream is None:
                try:
                    await self._streams.insert_one(
                        {"_id": organization_id, "next": 2, "pending": [_entry(draft, 1)]}
                    )
                except DuplicateKeyError:
                    continue
                return 1
            sequence = int(stream.get("next") or 1)
            written = await self._streams.update_one(
                {"_id": organization_id, "next": sequence},
                {"$set": {"next": sequence + 1}, "$push": {"pending": _entry(draft, sequence)}},
            )
            if written.modified_count == 1:
                return sequence
            await asyncio.sleep(random.uniform(0, 0.005))  # noqa: S311 - spreading retries
        raise EventsBusy()

    async def commit(self, event: Event, expires_at: datetime) -> None:
        """Insert the event, then settle its entry: safe to repeat."""
        # A duplicate: committed by an earlier attempt, or by recovery.
        with contextlib.suppress(DuplicateKeyError):
            await self._events.insert_one(event.to_document(expires_at))
        await self.settle(event.organization_id, event.sequence)

    async def settle(self, organization_id: ObjectId, sequence: int) -> None:
        """Take the pending entry off the stream (the event is in, or will never be)."""
        await self._streams.update_one(
            {"_id": organization_id}, {"$pull": {"pending": {"sequence": sequence}}}
        )

    async def horizon(self, organization_id: ObjectId) -> int:
        """The smallest sequence number a reader may not pass yet: the oldest pending one, or
        the next to be handed out."""
        stream = await self._streams.find_one({"_id": organization_id})
        if stream is None:
            return 1
        pending = [int(entry["sequence"]) for entry in stream.get("pending") or []]
        return min([*pending, int(stream.get("next") or 1)])

    async def settled_for(self, organization_id: ObjectId) -> bool:
        """Whether every event of the organization is committed (or dropped) and fanned out
        to webhooks: nothing of it is still to be sent."""
        stream = await self._streams.find_one({"_id": organization_id}, {"pending": 1})
        if stream is not None and stream.get("pending"):
            return False
        waiting = await self._events.find_one(
            {"organization_id": organization_id, "fanout_pending": True}, {"_id": 1}
        )
        return waiting is None

    async def stale_drafts(self, begun_before: datetime, limit: int = 100) -> list[Draft]:
        """Pending entries older than `begun_before`: changes whose process may have died."""
        cursor = self._streams.find({"pending.at": {"$lte": begun_before}}).limit(limit)
        drafts = []
        async for stream in cursor:
            for entry in stream.get("pending") or []:
                if _aware(entry["at"]) <= begun_before:
                    drafts.append(_draft(stream["_id"], entry))
        return drafts

    async def pending_count(self) -> int:
        return await self._streams.count_documents({"pending.at": {"$exists": True}})

    async def page(
        self,
        organization_id: ObjectId,
        after: int,
        before: int,
        types: list[str] | None,
        limit: int,
    ) -> list[Event]:
        """Committed events with `after` < sequence < `before`, oldest first."""
        query: dict[str, Any] = {
            "organization_id": organization_id,
            "sequence": {"$gt": after, "$lt": before},
        }
        if types:
            query["type"] = {"$in": types}
        cursor = (
            self._events.find(query).sort([("organization_id", ASCENDING), ("sequence", ASCENDING)])
        ).limit(limit)
        return [Event.from_document(document) async for document in cursor]

    async def get(self, organization_id: ObjectId, event_id: str) -> Event | None:
        document = await self._events.find_one(
            {"_id": event_id, "organization_id": organization_id}
        )
        return Event.from_document(document) if document else None

    async def between(
        self, organization_id: ObjectId, since: datetime, until: datetime, limit: int
    ) -> list[Event]:
        cursor = (
            self._events.find(
                {"organization_id": organization_id, "occurred_at": {"$gte": since, "$lt": until}}
            )
            .sort([("organization_id", ASCENDING), ("occurred_at", ASCENDING)])
            .limit(limit)
        )
        return [Event.from_document(document) async for document in cursor]

    async def awaiting_fanout(self, limit: int) -> list[Event]:
        cursor = self._events.find({"fanout_pending": True}).limit(limit)
        return [Event.from_document(document) async for document in cursor]

    async def fanned_out(self, event_ids: list[str]) -> None:
        if event_ids:
            await self._events.update_many(
                {"_id": {"$in": event_ids}}, {"$unset": {"fanout_pending": ""}}
            )

    async def fanout_backlog(self) -> int:
        return await self._events.count_documents({"fanout_pending": True})

    async def latest(self, organization_id: ObjectId | None, limit: int) -> list[Event]:
        """The newest events, of one organization or of all (operators' tail)."""
        if organization_id is not None:
            cursor = (
                self._events.find({"organization_id": organization_id})
                .sort([("organization_id", ASCENDING), ("sequence", DESCENDING)])
                .limit(limit)
            )
        else:
            cursor = self._events.find({}).sort("occurred_at", DESCENDING).limit(limit)
        found = [Event.from_document(document) async for document in cursor]
        return list(reversed(found))


def _entry(draft: Draft, sequence: int) -> Document:
    return {
        "sequence": sequence,
        "at": draft.begun_at,
        "type": draft.type,
        "actor": draft.actor.to_document(),
        "data": draft.data,
        "subject": draft.subject.to_document(),
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _draft(organization_id: ObjectId, entry: Document) -> Draft:
    return Draft(
        type=entry["type"],
        organization_id=organization_id,
        actor=Actor.from_document(entry["actor"]),
        data=entry.get("data") or {},
        subject=Subject.from_document(entry["subject"]),
        sequence=int(entry["sequence"]),
        begun_at=_aware(entry["at"]),
    )
