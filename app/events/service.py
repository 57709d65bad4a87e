"""Reading an organization's events in order (the pull API)."""

import re
from dataclasses import dataclass

from bson import ObjectId

from app.access.permissions import Permission, require
from app.access.principal import Principal
from app.errors import InvalidInput, NotFound
from app.events.catalogue import EventType
from app.events.models import Event
from app.events.repository import EventRepository

_EVENT_ID = re.compile(r"^evt_([0-9a-f]{24})_(\d{12})$")
AFTER_LOCATION = ("query", "after")


class EventNotFound(NotFound):
    code = "event_not_found"
    detail = "No such event in this organization (events are kept for EVENT_RETENTION_DAYS)"


@dataclass(frozen=True, slots=True)
class Feed:
    events: list[Event]
    next_cursor: str | None
    has_more: bool


def sequence_after(organization_id: ObjectId, after: str | None) -> int:
    """The sequence number a cursor (an event id of this organization) stands for."""
    if after is None:
        return 0
    found = _EVENT_ID.match(after)
    if found is None or ObjectId(found.group(1)) != organization_id:
        raise InvalidInput(AFTER_LOCATION, "not an event id of this organization")
    return int(found.group(2))


class EventService:
    def __init__(self, repository: EventRepository) -> None:
        self._repository = repository

    async def feed(
        self,
        principal: Principal,
        after: str | None,
        types: list[EventType] | None,
        limit: int,
    ) -> Feed:
        """Events after `after`, oldest first, never past one still being recorded: an event
        begun earlier (with a smaller number) may still commit, and must not be skipped."""
        require(principal, Permission.READ_EVENTS)
        organization_id = principal.organization_id
        start = sequence_after(organization_id, after)
        horizon = await self._repository.horizon(organization_id)
        wanted = [t.value for t in types] if types else None
        events = await self._repository.page(organization_id, start, horizon, wanted, limit)
        cursor = events[-1].id if events else after
        return Feed(events, cursor, len(events) == limit)

    async def get(self, principal: Principal, event_id: str) -> Event:
        require(principal, Permission.READ_EVENTS)
        event = await self._repository.get(principal.organization_id, event_id)
        if event is None:
            raise EventNotFound()
        return event
