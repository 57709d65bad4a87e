"""`GET /api/v1/organizations/{org_id}/events` and the catalogue of event types."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.access.permissions import Permission, who_may
from app.api.bodies import CheckedBodyRoute
from app.api.deps import SCOPED_ERRORS, EventReader, EventsDep
from app.api.openapi import operation_ids
from app.api.responses import errors
from app.events.catalogue import EventType
from app.events.schemas import EventPage, EventRead, EventTypeRead, catalogue
from app.events.service import EventNotFound

router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/organizations/{org_id}/events",
    tags=["events"],
    generate_unique_id_function=operation_ids("events"),
)
catalogue_router = APIRouter(
    route_class=CheckedBodyRoute,
    prefix="/api/v1/event-types",
    tags=["events"],
    generate_unique_id_function=operation_ids("event_types"),
)

FEED_HELP = (
    "Events in the order they happened in the organization, oldest first. Pass the "
    "`next_cursor` of the previous page as `after` to read on: a walk sees every event exactly "
    "once (an event still being recorded holds back the ones after it for a moment, so one "
    "that commits late is never skipped). Events are kept for `EVENT_RETENTION_DAYS`. "
)


@router.get(
    "",
    name="list",
    summary="Read the organization's events, oldest first",
    description=FEED_HELP + who_may(Permission.READ_EVENTS),
    responses=errors(*SCOPED_ERRORS),
)
async def read_events(
    caller: EventReader,
    events: EventsDep,
    after: Annotated[
        str | None,
        Query(max_length=64, description="The `next_cursor` (an event id) to read after."),
    ] = None,
    types: Annotated[
        list[EventType] | None, Query(description="Only these types (repeat the parameter).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Events to return.")] = 50,
) -> EventPage:
    return EventPage.of(await events.feed(caller, after, types, limit))


@router.get(
    "/{event_id}",
    name="read",
    summary="Read one event",
    description=who_may(Permission.READ_EVENTS),
    responses=errors(*SCOPED_ERRORS, EventNotFound),
)
async def read_event(
    event_id: Annotated[str, Path(max_length=64)], caller: EventReader, events: EventsDep
) -> EventRead:
    return EventRead.of(await events.get(caller, event_id))


@catalogue_router.get(
    "",
    name="list",
    summary="Every event type, with what its data holds",
    description="Public: the same list as the guide's events page.",
)
async def list_event_types() -> list[EventTypeRead]:
    return catalogue()
