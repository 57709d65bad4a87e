"""What the events endpoints answer."""

from typing import Any

from pydantic import BaseModel, Field

from app.events.catalogue import DESCRIPTIONS, EventType
from app.events.models import Event
from app.events.service import Feed
from app.kit.times import Timestamp


class ActorRead(BaseModel):
    kind: str = Field(description="`account`, `api_key`, `operator` or `system`.")
    id: str | None
    email: str | None


class EventRead(BaseModel):
    id: str = Field(description="Unique, and in order within the organization.")
    type: EventType
    occurred_at: Timestamp
    organization_id: str
    sequence: int = Field(description="The event's place in its organization's stream.")
    actor: ActorRead
    data: dict[str, Any] = Field(description="The changed object as it is after the change.")

    @classmethod
    def of(cls, event: Event) -> "EventRead":
        return cls(
            id=event.id,
            type=EventType(event.type),
            occurred_at=event.occurred_at,
            organization_id=str(event.organization_id),
            sequence=event.sequence,
            actor=ActorRead(
                kind=event.actor.kind.value, id=event.actor.id, email=event.actor.email
            ),
            data=event.data,
        )


class EventPage(BaseModel):
    # Not `items`: the feed is a stream read with `after`, not a page of a list (no offset,
    # no total).
    events: list[EventRead]
    next_cursor: str | None = Field(
        description="Pass as `after` to read on; null only when there has been no event yet. "
        "Given even on an empty page, so a poller keeps its place."
    )
    has_more: bool = Field(description="More events are ready now: read on at once.")

    @classmethod
    def of(cls, feed: Feed) -> "EventPage":
        return cls(
            events=[EventRead.of(e) for e in feed.events],
            next_cursor=feed.next_cursor,
            has_more=feed.has_more,
        )


class EventTypeRead(BaseModel):
    type: EventType
    description: str


def catalogue() -> list[EventTypeRead]:
    return [EventTypeRead(type=t, description=DESCRIPTIONS[t]) for t in EventType]
